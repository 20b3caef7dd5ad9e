// The CUDA entry points of a build without CUDA (RECSYS_CUDA=OFF or no nvcc). The public ops
// call CheckDevice before dispatching, which already refuses CUDA devices in such a build, so
// these only make the library link; each answers as CheckDevice would.
#include "absl/status/status.h"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

absl::Status NotBuilt() {
  return absl::FailedPreconditionError(
      "CUDA device requested but the kernels were built without CUDA (RECSYS_CUDA=OFF or no "
      "nvcc)");
}

}  // namespace

absl::Status Allocate(const Device&, int64_t, void**) { return NotBuilt(); }
void Free(const Device&, void*) {}
absl::Status CopyToDevice(const Device&, void*, const void*, int64_t) { return NotBuilt(); }
absl::Status CopyToHost(const Device&, void*, const void*, int64_t) { return NotBuilt(); }
absl::Status CopyOnDevice(const Device&, void*, const void*, int64_t) { return NotBuilt(); }
absl::Status Synchronize(const Device&) { return NotBuilt(); }
absl::Status CreateStream(const Device&, void**) { return NotBuilt(); }
absl::Status DestroyStream(const Device&, void*) { return NotBuilt(); }
absl::Status CheckDeviceMemory(const char*, const char*, const Device&, const void*) {
  return NotBuilt();
}
absl::Status Gemm(const Device&, const GemmParams&) { return NotBuilt(); }
absl::Status BatchedGemm(const Device&, const BatchedGemmParams&) { return NotBuilt(); }
absl::Status MixedGemm(const Device&, const MixedGemmParams&) { return NotBuilt(); }
absl::Status LayerNorm(const Device&, const LayerNormParams&) { return NotBuilt(); }
absl::Status RmsNorm(const Device&, const RmsNormParams&) { return NotBuilt(); }
absl::Status Softmax(const Device&, const SoftmaxParams&) { return NotBuilt(); }
absl::Status Activate(const Device&, Activation, const float*, float*, int64_t) {
  return NotBuilt();
}
absl::Status SwiGlu(const Device&, const float*, const float*, float*, int64_t) {
  return NotBuilt();
}
absl::Status GatherRows(const Device&, const GatherRowsParams&) { return NotBuilt(); }
absl::Status AddBias(const Device&, float*, const float*, int64_t, int64_t) { return NotBuilt(); }
absl::Status AddInPlace(const Device&, float*, const float*, int64_t) { return NotBuilt(); }
absl::Status ZeroRows(const Device&, float*, const uint8_t*, int64_t, int64_t) {
  return NotBuilt();
}
absl::Status Rope(const Device&, const RopeParams&) { return NotBuilt(); }
absl::Status Attention(const Device&, const AttentionParams&) { return NotBuilt(); }
absl::Status AttentionMass(const Device&, const AttentionMassParams&) { return NotBuilt(); }
absl::Status TargetAttentionTopK(const Device&, const TargetAttentionParams&) { return NotBuilt(); }
absl::Status CatalogTopK(const Device&, const CatalogTopKParams&) { return NotBuilt(); }

}  // namespace recsys::kernels::cuda
