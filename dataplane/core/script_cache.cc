#include "dataplane/core/script_cache.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"

namespace slotplane::dataplane {
namespace {

// The map's key for `sha`: lower case. False when it cannot name a script.
bool Key(std::string_view sha, std::string* key) {
  if (sha.size() != 2 * SHA_DIGEST_LENGTH) return false;
  key->assign(sha);
  absl::AsciiStrToLower(key);
  return true;
}

}  // namespace

ScriptCache& ScriptCache::Get() {
  static ScriptCache* const cache = new ScriptCache();  // never destroyed: workers may outlive main
  return *cache;
}

std::string ScriptCache::Sha1Hex(std::string_view body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * SHA_DIGEST_LENGTH, '0');
  for (size_t i = 0; i < SHA_DIGEST_LENGTH; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

void ScriptCache::Remember(std::string_view body) {
  if (body.size() > kMaxBytes) return;
  std::string sha = Sha1Hex(body);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (bodies_.contains(sha)) return;
  }
  absl::MutexLock lock(&mu_);
  if (bodies_.contains(sha)) return;
  EvictFor(body.size());
  order_.push_back(sha);
  bodies_.emplace(std::move(sha), std::string(body));
  bytes_ += body.size();
}

void ScriptCache::EvictFor(size_t bytes) {
  while (!order_.empty() && (bodies_.size() >= kMaxScripts || bytes_ + bytes > kMaxBytes)) {
    auto it = bodies_.find(order_.front());
    if (it != bodies_.end()) {
      bytes_ -= it->second.size();
      bodies_.erase(it);
    }
    order_.pop_front();
  }
}

bool ScriptCache::Find(std::string_view sha, std::string* body) const {
  std::string key;
  if (!Key(sha, &key)) return false;
  absl::ReaderMutexLock lock(&mu_);
  auto it = bodies_.find(key);
  if (it == bodies_.end()) return false;
  *body = it->second;
  return true;
}

bool ScriptCache::Knows(std::string_view sha) const {
  std::string key;
  if (!Key(sha, &key)) return false;
  absl::ReaderMutexLock lock(&mu_);
  return bodies_.contains(key);
}

void ScriptCache::Clear() {
  absl::MutexLock lock(&mu_);
  bodies_.clear();
  order_.clear();
  bytes_ = 0;
}

size_t ScriptCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return bodies_.size();
}

}  // namespace slotplane::dataplane
