#pragma once
// Progress: lets a test wait until a condition holds, woken whenever a
// thread under test reports that something happened (notify()), instead of
// sleeping and polling. The condition is checked without Progress's lock
// held, so it may take the locks of the code under test.
//
// Threading: notify() from any thread; waitUntil() from the test's thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace kinship::testing {

class Progress {
 public:
  void notify() {
    {
      std::lock_guard lock(mu_);
      ++generation_;
    }
    changed_.notify_all();
  }

  // True once `condition` holds, checked now and after every notify().
  // `guard` only keeps a broken test from hanging: it is not a timing.
  template <typename Condition>
  bool waitUntil(Condition condition, std::chrono::seconds guard = std::chrono::seconds(60)) {
    const auto giveUpAt = std::chrono::steady_clock::now() + guard;
    for (;;) {
      uint64_t seen;
      {
        std::lock_guard lock(mu_);
        seen = generation_;
      }
      if (condition()) return true;
      std::unique_lock lock(mu_);
      if (!changed_.wait_until(lock, giveUpAt, [&] { return generation_ != seen; })) return condition();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
};

}  // namespace kinship::testing
