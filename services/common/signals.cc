#include "services/common/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace recsys {
namespace {

int g_pipe[2] = {-1, -1};

void OnTerminationSignal(int signal_number) {
  const int saved_errno = errno;  // the interrupted code may be about to read errno
  const unsigned char byte = static_cast<unsigned char>(signal_number);
  (void)!write(g_pipe[1], &byte, 1);
  errno = saved_errno;
}

}  // namespace

void InstallTerminationSignalHandlers() {
  if (g_pipe[0] >= 0) return;
  if (pipe2(g_pipe, O_CLOEXEC) != 0) return;
  struct sigaction action = {};
  action.sa_handler = OnTerminationSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // A write past RLIMIT_FSIZE then fails with EFBIG, which the store reports like a full disk
  // (UNAVAILABLE), instead of the signal killing the process.
  signal(SIGXFSZ, SIG_IGN);
}

int WaitForTerminationSignal() {
  unsigned char byte = 0;
  for (;;) {
    const ssize_t n = read(g_pipe[0], &byte, 1);
    if (n == 1) return byte;
    if (n < 0 && errno == EINTR) continue;
    pause();  // pipe closed or broken: nothing more will arrive
  }
}

}  // namespace recsys
