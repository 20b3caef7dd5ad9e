// Row-wise normalisations, softmax and activations.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

// y = (x - mean) / sqrt(var + eps) * gamma + beta over each row (biased variance, as
// torch.nn.LayerNorm). In-place (y == x) allowed. beta may be null (no shift).
struct LayerNormParams {
  const float* x = nullptr;      // [rows, cols]
  const float* gamma = nullptr;  // [cols]
  const float* beta = nullptr;   // [cols] or null
  float* y = nullptr;            // [rows, cols]
  int64_t rows = 0, cols = 0;
  float eps = 1e-5f;
};
absl::Status LayerNorm(const Device& device, const LayerNormParams& params);

// y = x / sqrt(mean(x^2) + eps) * gamma over each row (Llama / T5 RMSNorm). In-place allowed.
struct RmsNormParams {
  const float* x = nullptr;      // [rows, cols]
  const float* gamma = nullptr;  // [cols]
  float* y = nullptr;            // [rows, cols]
  int64_t rows = 0, cols = 0;
  float eps = 1e-6f;
};
absl::Status RmsNorm(const Device& device, const RmsNormParams& params);

// Numerically stable softmax over each row. In-place allowed. Entries equal to -inf are
// masked; a row with every entry -inf gives all zeros (never NaN).
struct SoftmaxParams {
  const float* x = nullptr;  // [rows, cols]
  float* y = nullptr;        // [rows, cols]
  int64_t rows = 0, cols = 0;
};
absl::Status Softmax(const Device& device, const SoftmaxParams& params);

enum class Activation {
  kRelu,
  kGeluErf,   // x * 0.5 * (1 + erf(x / sqrt(2)))            (BERT4Rec official, torch default)
  kGeluTanh,  // x * 0.5 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  kSilu,      // x * sigmoid(x)
  kSigmoid,
};

// y[i] = f(x[i]) for n elements. In-place allowed.
absl::Status Activate(const Device& device, Activation activation, const float* x, float* y,
                      int64_t n);

// out[i] = silu(gate[i]) * up[i] (the SwiGLU feed-forward product). out may alias gate or up.
absl::Status SwiGlu(const Device& device, const float* gate, const float* up, float* out,
                    int64_t n);

// Rotary position embedding (Llama), in place on x = [tokens, heads, head_dim] (head_dim
// even). Token t is rotated by positions[t] * theta^(-2i/head_dim) for pair i. Pairs are
// (i, i + head_dim/2) ("rotate_half", Hugging Face Llama) unless interleaved, where they are
// (2i, 2i + 1) (the original Meta layout).
struct RopeParams {
  float* x = nullptr;
  const int64_t* positions = nullptr;  // [tokens]
  int64_t tokens = 0, heads = 0, head_dim = 0;
  float theta = 10000.0f;
  bool interleaved = false;
  // Optional [head_dim / 2], device memory: pair i's frequency is divided by freq_factors[i]
  // (Llama 3's rope scaling, stored by llama.cpp as the rope_freqs tensor). Positive.
  const float* freq_factors = nullptr;
};
absl::Status Rope(const Device& device, const RopeParams& params);

}  // namespace recsys::kernels
