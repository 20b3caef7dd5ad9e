// SIGTERM / SIGINT handling without async-signal-unsafe work in a handler: the signals are
// blocked in every thread and one thread waits for them with sigwait().
#pragma once

namespace recsys {

// Call first thing in main(), before any thread exists, so all threads inherit the mask.
void BlockTerminationSignals();

// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();

}  // namespace recsys
