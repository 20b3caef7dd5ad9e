// SIGTERM / SIGINT handling without async-signal-unsafe work in a handler: the handler only
// writes the signal number into a pipe, and one thread reads the pipe. This works whichever
// thread the kernel picks, including threads that libraries (RocksDB, OpenBLAS) start before
// main() with their own signal masks, which a block-and-sigwait scheme cannot cover.
#pragma once

namespace recsys {

// Call first thing in main(). Installs the handlers (SA_RESTART, so other threads' system
// calls are not interrupted) and ignores SIGXFSZ (a file-size limit becomes an I/O error).
void InstallTerminationSignalHandlers();

// Blocks until SIGTERM or SIGINT arrives; returns the signal number. Each signal is
// returned once.
int WaitForTerminationSignal();

}  // namespace recsys
