// Where a kernel runs. Every op takes a Device first; the pointers in its params must live
// in that device's memory (host memory for the CPU). DefaultDevice() picks the first CUDA
// device when the library was built with CUDA and one is visible, otherwise the CPU, so a
// caller that asks for the default never fails for lack of a GPU.
//
// Conventions for all ops (one row-major layout, as FAISS states once for its library):
// - Tensors are dense, row-major, fp32 unless a field says otherwise: element (i, j) of an
//   [rows, cols] matrix is x[i * cols + j].
// - Shapes are int64_t; zero-sized dimensions are valid and do nothing.
// - Invalid shapes or null pointers return INVALID_ARGUMENT naming the field; an op never
//   aborts on bad arguments.
// - Outputs never alias inputs unless a field says in-place is allowed.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace recsys::kernels {

enum class Backend { kCpu, kCuda };

struct Device {
  Backend backend = Backend::kCpu;
  // CUDA device ordinal; ignored for the CPU.
  int ordinal = 0;
  // cudaStream_t to launch on (nullptr = the default stream); ignored for the CPU.
  void* stream = nullptr;

  static Device Cpu() { return Device{}; }
  static Device Cuda(int ordinal = 0, void* stream = nullptr) {
    return Device{Backend::kCuda, ordinal, stream};
  }
};

// cuda:0 when built with CUDA and a device is visible, else the CPU.
Device DefaultDevice();

// OK when ops can run on device; FAILED_PRECONDITION naming the reason otherwise (CUDA not
// built, ordinal out of range).
absl::Status CheckDevice(const Device& device);

// Runs OpenBLAS on its caller's thread so that the OpenMP team is the process's only CPU
// pool (the kernels split large GEMMs over it themselves). Idempotent; CheckDevice calls it
// for the CPU, so every kernel does; code that calls BLAS through another library (FAISS)
// calls it at start-up. An OPENBLAS_NUM_THREADS in the environment wins.
void UseOneThreadPool();

}  // namespace recsys::kernels
