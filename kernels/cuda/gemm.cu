// GEMM through cuBLAS. cuBLAS is column-major: a row-major C = op(A) op(B) is the column-major
// C^T = op(B)^T op(A)^T, so every call passes B before A and n before m.
#include <cublas_v2.h>

#include <climits>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

absl::Status CublasError(const char* op, const char* call, cublasStatus_t status) {
  const absl::string_view name = cublasGetStatusName(status);
  const std::string message = absl::StrCat(op, ": ", call, " failed: ", name);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// One handle per (thread, device, stream), created on first use and kept for the thread's
// life: creating one costs milliseconds, a handle must not be shared by threads, and one
// handle's workspace must not serve two streams at once. Handles are deliberately never
// destroyed (process exit may come after the driver is torn down).
absl::Status HandleFor(const char* op, const Device& device, cublasHandle_t* handle) {
  thread_local std::map<std::pair<int, void*>, cublasHandle_t> handles;
  cublasHandle_t& h = handles[{device.ordinal, device.stream}];
  if (h == nullptr) {
    const cublasStatus_t status = cublasCreate(&h);
    if (status != CUBLAS_STATUS_SUCCESS) {
      h = nullptr;
      return CublasError(op, "cublasCreate", status);
    }
  }
  const cublasStatus_t status = cublasSetStream(h, StreamOf(device));
  if (status != CUBLAS_STATUS_SUCCESS) return CublasError(op, "cublasSetStream", status);
  *handle = h;
  return absl::OkStatus();
}

cublasOperation_t Op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

// cuBLAS wants every leading dimension >= 1, even for an empty operand.
int Ld(int64_t ld) { return static_cast<int>(ld < 1 ? 1 : ld); }

// C = beta * C for `batch` matrices [m, n] (row stride ldc, matrix stride stride_c), writing
// zeros (not 0 * C, which keeps NaN) when beta == 0: the k == 0 product, done here because
// cuBLAS has not always applied beta when k == 0.
__global__ void ScaleKernel(float* c, int64_t m, int64_t n, int64_t ldc, int64_t stride_c,
                            int64_t batch, float beta) {
  const int64_t total = batch * m * n;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = idx / (m * n), i = (idx / n) % m, j = idx % n;
    float& x = c[b * stride_c + i * ldc + j];
    x = beta == 0.0f ? 0.0f : beta * x;
  }
}

absl::Status ScaleC(const char* op, const Device& device, float* c, int64_t m, int64_t n,
                    int64_t ldc, int64_t stride_c, int64_t batch, float beta) {
  if (beta == 1.0f) return absl::OkStatus();
  ScaleKernel<<<GridFor(batch * m * n, 256), 256, 0, StreamOf(device)>>>(c, m, n, ldc, stride_c,
                                                                          batch, beta);
  return CheckLaunch(op);
}

#define RECSYS_CUBLAS_RETURN_IF_ERROR(op, expr)                                   \
  do {                                                                            \
    const cublasStatus_t recsys_cublas_status_ = (expr);                          \
    if (recsys_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                         \
      return CublasError((op), #expr, recsys_cublas_status_);                     \
    }                                                                             \
  } while (false)

}  // namespace

absl::Status Gemm(const Device& device, const GemmParams& p) {
  constexpr char kOp[] = "Gemm";
  if (p.m == 0 || p.n == 0) return absl::OkStatus();
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"a", p.a}, {"b", p.b}, {"c", p.c}}));
  if (p.k == 0) return ScaleC(kOp, device, p.c, p.m, p.n, p.ldc, 0, 1, p.beta);
  cublasHandle_t handle;
  RECSYS_RETURN_IF_ERROR(HandleFor(kOp, device, &handle));
  RECSYS_CUBLAS_RETURN_IF_ERROR(
      kOp, cublasSgemm(handle, Op(p.transpose_b), Op(p.transpose_a), static_cast<int>(p.n),
                       static_cast<int>(p.m), static_cast<int>(p.k), &p.alpha, p.b, Ld(p.ldb), p.a,
                       Ld(p.lda), &p.beta, p.c, Ld(p.ldc)));
  return absl::OkStatus();
}

absl::Status BatchedGemm(const Device& device, const BatchedGemmParams& params) {
  constexpr char kOp[] = "BatchedGemm";
  const GemmParams& p = params.gemm;
  if (p.m == 0 || p.n == 0 || params.batch == 0) return absl::OkStatus();
  if (params.batch > INT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": batch (", params.batch, ") exceeds the cuBLAS limit ", INT_MAX));
  }
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"gemm.a", p.a}, {"gemm.b", p.b}, {"gemm.c", p.c}}));
  if (p.k == 0) {
    return ScaleC(kOp, device, p.c, p.m, p.n, p.ldc, params.stride_c, params.batch, p.beta);
  }
  cublasHandle_t handle;
  RECSYS_RETURN_IF_ERROR(HandleFor(kOp, device, &handle));
  RECSYS_CUBLAS_RETURN_IF_ERROR(
      kOp, cublasSgemmStridedBatched(
               handle, Op(p.transpose_b), Op(p.transpose_a), static_cast<int>(p.n),
               static_cast<int>(p.m), static_cast<int>(p.k), &p.alpha, p.b, Ld(p.ldb),
               params.stride_b, p.a, Ld(p.lda), params.stride_a, &p.beta, p.c, Ld(p.ldc),
               params.stride_c, static_cast<int>(params.batch)));
  return absl::OkStatus();
}

absl::Status MixedGemm(const Device& device, const MixedGemmParams& params) {
  constexpr char kOp[] = "MixedGemm";
  const GemmParams& p = params.shape;
  if (p.m == 0 || p.n == 0) return absl::OkStatus();
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"a", params.a}, {"b", params.b}, {"shape.c", p.c}}));
  if (p.k == 0) return ScaleC(kOp, device, p.c, p.m, p.n, p.ldc, 0, 1, p.beta);
  cublasHandle_t handle;
  RECSYS_RETURN_IF_ERROR(HandleFor(kOp, device, &handle));
  const cudaDataType_t type = params.type == HalfType::kFloat16 ? CUDA_R_16F : CUDA_R_16BF;
  RECSYS_CUBLAS_RETURN_IF_ERROR(
      kOp, cublasGemmEx(handle, Op(p.transpose_b), Op(p.transpose_a), static_cast<int>(p.n),
                        static_cast<int>(p.m), static_cast<int>(p.k), &p.alpha, params.b, type,
                        Ld(p.ldb), params.a, type, Ld(p.lda), &p.beta, p.c, CUDA_R_32F, Ld(p.ldc),
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return absl::OkStatus();
}

}  // namespace recsys::kernels::cuda
