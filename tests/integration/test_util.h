#pragma once

// Small helpers shared by the integration fixture and tests: bounded polling, status assertions,
// temporary directories and free loopback ports.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slotplane::integration {

// Calls `condition` until it returns true or `timeout` has passed, waiting `interval` between
// calls. The condition is always evaluated at least once, and once more after the deadline, so a
// condition that became true while the last interval elapsed is not reported as a timeout.
// Returns the condition's last value.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
             absl::Duration interval = absl::Milliseconds(10));

// Like WaitFor(), for checks that say why they do not hold yet: returns OK as soon as `check`
// does, else DeadlineExceeded carrying the last error.
absl::Status WaitForOk(const std::function<absl::Status()>& check, absl::Duration timeout,
                       absl::Duration interval = absl::Milliseconds(20));

// A directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create(absl::string_view prefix);

  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;
};

// Returns a random port in [40000, 54000) that can be bound on 127.0.0.1 right now. With
// `with_cluster_bus`, port + 10000 (the Redis Cluster bus port) is bindable too. A port (and its
// bus port) is handed out at most once per process, so concurrent callers never collide with each
// other; another process may still take it before it is used, so callers retry on EADDRINUSE.
absl::StatusOr<uint16_t> PickFreePort(bool with_cluster_bus);

// The whole file, or an empty string when it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// The "name:value" lines of an INFO-style text ('#' section headers and blank lines skipped).
std::map<std::string, std::string> ParseInfoText(absl::string_view text);

// The last `max_lines` lines of `text`.
std::string LastLines(absl::string_view text, size_t max_lines);

// Uniformly random bytes (all 256 values), for binary-safe keys and values.
std::string RandomBytes(size_t size, uint64_t seed);

inline absl::Status ToStatus(const absl::Status& status) { return status; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

template <typename T>
::testing::AssertionResult IsOk(const char* expr_text, const T& status_or) {
  const absl::Status status = ToStatus(status_or);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << ": " << status;
}

}  // namespace slotplane::integration

#define SLOTPLANE_IT_CONCAT_INNER(a, b) a##b
#define SLOTPLANE_IT_CONCAT(a, b) SLOTPLANE_IT_CONCAT_INNER(a, b)

// ASSERT_OK(status_or_statusor) << "context";  EXPECT_OK likewise.
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::slotplane::integration::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::slotplane::integration::IsOk, expr)

#define IT_RETURN_IF_ERROR(expr)                               \
  do {                                                         \
    const absl::Status slotplane_it_status = (expr);           \
    if (!slotplane_it_status.ok()) return slotplane_it_status; \
  } while (0)

// ASSERT_OK_AND_ASSIGN(auto x, FunctionReturningStatusOr());
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  SLOTPLANE_IT_ASSERT_OK_AND_ASSIGN_IMPL(SLOTPLANE_IT_CONCAT(slotplane_it_or_, __LINE__), lhs, expr)
#define SLOTPLANE_IT_ASSERT_OK_AND_ASSIGN_IMPL(var, lhs, expr) \
  auto var = (expr);                                           \
  ASSERT_TRUE(var.ok()) << var.status();                       \
  lhs = std::move(var).value()
