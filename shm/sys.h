// Thin wrappers over the Linux primitives shm/ builds on: process-shared futexes, robust
// process-shared mutexes and /proc process identity. Internal to shm/.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rz::shm::sys {

// FUTEX_WAIT without FUTEX_PRIVATE_FLAG (the word is shared between processes): sleeps while
// *word == expected, at most `timeout`. Spurious returns are fine; callers re-check.
void futex_wait(const std::atomic<uint32_t>* word, uint32_t expected,
                std::chrono::nanoseconds timeout);
void futex_wake(const std::atomic<uint32_t>* word, int count);

// A process-shared, robust, error-checking mutex used only as a liveness token: whoever
// holds it is the owner until it dies (the kernel then marks it EOWNERDEAD).
void robust_mutex_init(pthread_mutex_t* m);
enum class Claim { kFree, kFromDead, kBusy };
// Non-blocking. kFree / kFromDead: the caller now holds the mutex (a dead owner's mutex is
// made consistent first). kBusy: a live thread holds it.
Claim robust_mutex_try(pthread_mutex_t* m);
void robust_mutex_release(pthread_mutex_t* m);

// starttime of /proc/<pid>/stat (clock ticks since boot), 0 if no such live process.
uint64_t process_start_ticks(uint32_t pid);
// pid is alive, not a zombie, and (if start_ticks != 0) the same process as recorded.
bool process_alive(uint32_t pid, uint64_t start_ticks);

inline void cpu_relax() {
  __builtin_ia32_pause();
}

}  // namespace rz::shm::sys
