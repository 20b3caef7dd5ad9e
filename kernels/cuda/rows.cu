// Row gathers and broadcasts on CUDA: grid-stride loops over elements, one thread an element
// (rows are short, so a row-per-warp layout would leave most lanes idle).
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

constexpr int kThreads = 256;

#define RECSYS_FOR_ELEMENTS(i, n)                                                        \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// An id outside its table gives a zero row (the host cannot be told without a copy back).
__global__ void GatherRowsKernel(GatherRowsParams p) {
  RECSYS_FOR_ELEMENTS(i, p.n * p.cols) {
    const int64_t r = i / p.cols, e = i % p.cols;
    const int64_t id = p.ids[r];
    float v = 0.0f;
    if (id >= 0 && id < p.table_rows) {
      v = p.table[id * p.cols + e] * p.scale;
      if (p.add != nullptr) {
        const int64_t a = p.add_ids[r];
        v = (a >= 0 && a < p.add_rows) ? v + p.add[a * p.cols + e] : 0.0f;
      }
    }
    p.out[i] = v;
  }
}

__global__ void AddBiasKernel(float* x, const float* bias, int64_t rows, int64_t cols) {
  RECSYS_FOR_ELEMENTS(i, rows * cols) { x[i] += bias[i % cols]; }
}

__global__ void AddInPlaceKernel(float* x, const float* y, int64_t n) {
  RECSYS_FOR_ELEMENTS(i, n) { x[i] += y[i]; }
}

__global__ void ZeroRowsKernel(float* x, const uint8_t* keep, int64_t rows, int64_t cols) {
  RECSYS_FOR_ELEMENTS(i, rows * cols) {
    if (keep[i / cols] == 0) x[i] = 0.0f;
  }
}

}  // namespace

absl::Status GatherRows(const Device& device, const GatherRowsParams& p) {
  constexpr char kOp[] = "GatherRows";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"table", p.table}, {"ids", p.ids}, {"out", p.out}}));
  if (p.add != nullptr) {
    RECSYS_RETURN_IF_ERROR(
        CheckDevicePointers(kOp, device, {{"add", p.add}, {"add_ids", p.add_ids}}));
  }
  GatherRowsKernel<<<GridFor(p.n * p.cols, kThreads), kThreads, 0, StreamOf(device)>>>(p);
  return CheckLaunch(kOp);
}

absl::Status AddBias(const Device& device, float* x, const float* bias, int64_t rows,
                     int64_t cols) {
  constexpr char kOp[] = "AddBias";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"x", x}, {"bias", bias}}));
  AddBiasKernel<<<GridFor(rows * cols, kThreads), kThreads, 0, StreamOf(device)>>>(x, bias, rows,
                                                                                    cols);
  return CheckLaunch(kOp);
}

absl::Status AddInPlace(const Device& device, float* x, const float* y, int64_t n) {
  constexpr char kOp[] = "AddInPlace";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"x", x}, {"y", y}}));
  AddInPlaceKernel<<<GridFor(n, kThreads), kThreads, 0, StreamOf(device)>>>(x, y, n);
  return CheckLaunch(kOp);
}

absl::Status ZeroRows(const Device& device, float* x, const uint8_t* keep, int64_t rows,
                      int64_t cols) {
  constexpr char kOp[] = "ZeroRows";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"x", x}, {"keep", keep}}));
  ZeroRowsKernel<<<GridFor(rows * cols, kThreads), kThreads, 0, StreamOf(device)>>>(x, keep, rows,
                                                                                     cols);
  return CheckLaunch(kOp);
}

}  // namespace recsys::kernels::cuda
