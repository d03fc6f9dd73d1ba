#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// A small JSON writer for slotplanectl --json: objects and arrays built from values that are
// already JSON. Numbers stay numbers (versions are uint64), strings are escaped per RFC 8259.
namespace slotplane::ctl {

std::string JsonString(std::string_view text);

class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonObject& Add(std::string_view key, uint64_t value);
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, int value) { return Add(key, int64_t{value}); }
  JsonObject& Add(std::string_view key, bool value);
  // `json` must already be JSON (an object, an array, ...).
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_;
};

class JsonArray {
 public:
  JsonArray& AddRaw(std::string_view json);
  JsonArray& Add(std::string_view value) { return AddRaw(JsonString(value)); }
  std::string str() const { return "[" + body_ + "]"; }

 private:
  std::string body_;
};

}  // namespace slotplane::ctl
