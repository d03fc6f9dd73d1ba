#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace slotplane::dataplane {

// The Lua scripts this proxy's clients ran with EVAL or loaded with SCRIPT LOAD, by SHA1, so that
// EVALSHA works on every master as it does on one Redis. A cluster keeps one script cache per
// node: EVAL caches its script only on the master that ran it (and a master promoted after a
// failover has none), so EVALSHA of that script on another master answers NOSCRIPT. ScriptCall
// then loads the body from here on that master and sends the EVALSHA again (once).
//
// SCRIPT FLUSH through the proxy empties it, as it empties Redis's cache. Scripts EVAL'd through
// another proxy or straight at a node are not known here (docs/compatibility.md).
//
// One per process (the proxy is one Redis); any thread. Bounded: at most kMaxScripts scripts and
// kMaxBytes of bodies, the oldest forgotten first. Used by script commands only: a lookup takes
// a reader lock, adding a new script the writer lock.
class ScriptCache {
 public:
  static constexpr size_t kMaxScripts = 10000;
  static constexpr size_t kMaxBytes = 32 << 20;

  static ScriptCache& Get();

  // Remembers `body`, a script an EVAL ran or SCRIPT LOAD loaded. A body larger than kMaxBytes
  // is not kept.
  void Remember(std::string_view body);
  // Copies the body of the script whose SHA1 is `sha` (40 hex digits, either case) to `body`;
  // false when it is not known.
  bool Find(std::string_view sha, std::string* body) const;
  // Whether the script whose SHA1 is `sha` is known (SCRIPT EXISTS).
  bool Knows(std::string_view sha) const;
  // SCRIPT FLUSH.
  void Clear();
  size_t size() const;

  // The lower-case hex SHA1 of `body`, as Redis names scripts.
  static std::string Sha1Hex(std::string_view body);

 private:
  ScriptCache() = default;
  void EvictFor(size_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> bodies_ ABSL_GUARDED_BY(mu_);  // SHA1 → body
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // SHA1s, oldest first
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace slotplane::dataplane
