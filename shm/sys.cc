#include "shm/sys.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "shm/shm_error.h"

namespace rz::shm::sys {

void futex_wait(const std::atomic<uint32_t>* word, uint32_t expected,
                std::chrono::nanoseconds timeout) {
  if (timeout.count() <= 0) return;
  timespec ts;
  ts.tv_sec = timeout.count() / 1000000000;
  ts.tv_nsec = timeout.count() % 1000000000;
  // std::atomic<uint32_t> is a plain 4-byte word (asserted in layout.h).
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr,
          0);
}

void futex_wake(const std::atomic<uint32_t>* word, int count) {
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), FUTEX_WAKE, count, nullptr, nullptr,
          0);
}

void robust_mutex_init(pthread_mutex_t* m) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  int rc = pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0)
    throw ShmError(std::string("cannot initialise a process-shared robust mutex: ") +
                   std::strerror(rc) + ": check that the system supports robust futexes");
}

Claim robust_mutex_try(pthread_mutex_t* m) {
  int rc = pthread_mutex_trylock(m);
  if (rc == 0) return Claim::kFree;
  if (rc == EOWNERDEAD) {
    // The previous owner died holding it; we own it now. Nothing it protected needs repair
    // (the mutex only marks ownership), so mark it consistent and keep it.
    pthread_mutex_consistent(m);
    return Claim::kFromDead;
  }
  if (rc == EBUSY || rc == EDEADLK) return Claim::kBusy;  // EDEADLK: held by this thread
  throw ShmError(std::string("robust mutex in shared memory is unusable (") + std::strerror(rc) +
                 "): remove the segment with launch.sh stop and restart");
}

void robust_mutex_release(pthread_mutex_t* m) {
  pthread_mutex_unlock(m);
}

uint64_t process_start_ticks(uint32_t pid) {
  if (pid == 0) return 0;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  p += 2;  // state
  if (*p == 'Z' || *p == 'X') return 0;
  // starttime is field 22; the state is field 3.
  for (int field = 3; field < 22 && *p; ++p)
    if (*p == ' ') ++field;
  return std::strtoull(p, nullptr, 10);
}

bool process_alive(uint32_t pid, uint64_t start_ticks) {
  uint64_t t = process_start_ticks(pid);
  return t != 0 && (start_ticks == 0 || t == start_ticks);
}

}  // namespace rz::shm::sys
