#include "recsys/kernels/attention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace recsys::kernels {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Shape {
  int64_t batch = 1, q_len = 1, kv_len = 1, num_heads = 1, num_kv_heads = 1, head_dim = 8;
};

template <typename T>
T* Ptr(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

// Owns the tensors of one call. q, k and v are N(0, 1) (q times q_spread, to sharpen the
// softmax); out starts as NaN so an element the kernel never writes shows up.
struct Problem {
  explicit Problem(const Shape& s, uint32_t seed = 1, float q_spread = 1.0f) : shape(s) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    q.resize(s.batch * s.q_len * s.num_heads * s.head_dim);
    k.resize(s.batch * s.kv_len * s.num_kv_heads * s.head_dim);
    v.resize(k.size());
    for (float& x : q) x = q_spread * normal(rng);
    for (float& x : k) x = normal(rng);
    for (float& x : v) x = normal(rng);
    out.assign(q.size(), std::numeric_limits<float>::quiet_NaN());
  }

  AttentionParams Params() {
    AttentionParams p;
    p.q = Ptr(q), p.k = Ptr(k), p.v = Ptr(v), p.out = Ptr(out);
    p.batch = shape.batch, p.q_len = shape.q_len, p.kv_len = shape.kv_len;
    p.num_heads = shape.num_heads, p.num_kv_heads = shape.num_kv_heads;
    p.head_dim = shape.head_dim;
    p.scale = scale, p.mask = mask;
    p.key_valid = Ptr(key_valid), p.set_ids = Ptr(set_ids);
    p.bias = Ptr(bias), p.bias_batch_stride = bias_batch_stride;
    p.bias_head_stride = bias_head_stride;
    p.gate = Ptr(gate), p.gate_dim = gate_dim;
    return p;
  }
  absl::Status Run() { return Attention(Device::Cpu(), Params()); }

  Shape shape;
  float scale = 0.0f;
  AttentionMask mask = AttentionMask::kBidirectional;
  int64_t bias_batch_stride = 0, bias_head_stride = 0, gate_dim = 0;
  std::vector<float> q, k, v, out, bias, gate;
  std::vector<uint8_t> key_valid;
  std::vector<int32_t> set_ids;
};

// Whether query i may see key j, spelled out from the definitions in attention.h.
bool Visible(const AttentionParams& p, int64_t b, int64_t i, int64_t j) {
  if (p.key_valid != nullptr && p.key_valid[b * p.kv_len + j] == 0) return false;
  switch (p.mask) {
    case AttentionMask::kBidirectional:
      return true;
    case AttentionMask::kCausal:
      return j <= i + (p.kv_len - p.q_len);
    case AttentionMask::kCausalSets: {
      const int32_t id_i = p.set_ids[b * p.kv_len + i];
      const int32_t id_j = p.set_ids[b * p.kv_len + j];
      return j <= i && !(id_i >= 0 && id_j == id_i && j != i);
    }
  }
  return false;
}

// Plain double-precision attention for the given query rows (all when empty): per (batch,
// head) the full [rows, kv_len] score matrix and boolean mask, then an ordinary softmax.
// Returns [batch, q_len, num_heads, head_dim] with NaN in the rows not asked for.
std::vector<double> Reference(const AttentionParams& p, std::vector<int64_t> rows = {}) {
  if (rows.empty()) {
    rows.resize(p.q_len);
    std::iota(rows.begin(), rows.end(), 0);
  }
  const int64_t n = rows.size(), kv = p.kv_len, d = p.head_dim, heads = p.num_heads;
  const double scale = p.scale > 0 ? p.scale : 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<double> out(p.batch * p.q_len * heads * d, kNaN);
  std::vector<double> scores(n * kv);
  std::vector<bool> visible(n * kv);
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / (heads / p.num_kv_heads);
      for (int64_t r = 0; r < n; ++r) {
        const float* q = p.q + ((b * p.q_len + rows[r]) * heads + h) * d;
        for (int64_t j = 0; j < kv; ++j) {
          const float* k = p.k + ((b * kv + j) * p.num_kv_heads + g) * d;
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += static_cast<double>(q[e]) * k[e];
          double s = scale * dot;
          if (p.bias != nullptr) {
            s += p.bias[b * p.bias_batch_stride + h * p.bias_head_stride + rows[r] * kv + j];
          }
          scores[r * kv + j] = s;
          visible[r * kv + j] = Visible(p, b, rows[r], j) && s != -kInf;
        }
      }
      for (int64_t r = 0; r < n; ++r) {
        const int64_t row = (b * p.q_len + rows[r]) * heads + h;
        double* o = out.data() + row * d;
        double mx = -kInf;
        for (int64_t j = 0; j < kv; ++j) {
          if (visible[r * kv + j]) mx = std::max(mx, scores[r * kv + j]);
        }
        std::fill(o, o + d, 0.0);
        if (mx == -kInf) continue;  // every key masked
        double sum = 0;
        for (int64_t j = 0; j < kv; ++j) {
          if (!visible[r * kv + j]) continue;
          const double w = std::exp(scores[r * kv + j] - mx);
          sum += w;
          const float* v = p.v + ((b * kv + j) * p.num_kv_heads + g) * d;
          for (int64_t e = 0; e < d; ++e) o[e] += w * v[e];
        }
        for (int64_t e = 0; e < d; ++e) {
          o[e] /= sum;
          if (p.gate != nullptr) {
            o[e] /= 1.0 + std::exp(-static_cast<double>(
                              p.gate[row * p.gate_dim + (p.gate_dim == 1 ? 0 : e)]));
          }
        }
      }
    }
  }
  return out;
}

// Compares every requested row of pr.out with the reference:
// |got - want| <= 1e-4 * max(1, |want|), and no NaN anywhere in those rows.
void ExpectOutputMatchesReference(Problem& pr, const std::vector<int64_t>& rows = {}) {
  const std::vector<double> want = Reference(pr.Params(), rows);
  int failures = 0;
  double worst = 0;
  for (size_t x = 0; x < want.size(); ++x) {
    if (std::isnan(want[x])) continue;
    const double err = std::abs(pr.out[x] - want[x]) / std::max(1.0, std::abs(want[x]));
    worst = std::max(worst, err);
    if (!(err <= 1e-4) && ++failures <= 5) {
      ADD_FAILURE() << "out[" << x << "] = " << pr.out[x] << ", want " << want[x];
    }
  }
  EXPECT_EQ(failures, 0) << "worst relative error " << worst;
}

void ExpectMatchesReference(Problem& pr) {
  ASSERT_THAT(pr.Run(), IsOk());
  ExpectOutputMatchesReference(pr);
}

// Positions [start, start + len) of batch entry b of a q_len == kv_len problem, as batch 1.
Problem Slice(const Problem& pr, int64_t b, int64_t start, int64_t len) {
  Shape s = pr.shape;
  s.batch = 1, s.q_len = len, s.kv_len = len;
  Problem sub(s);
  const int64_t qw = s.num_heads * s.head_dim, kw = s.num_kv_heads * s.head_dim;
  const int64_t pos = b * pr.shape.q_len + start;
  std::copy_n(pr.q.begin() + pos * qw, len * qw, sub.q.begin());
  std::copy_n(pr.k.begin() + pos * kw, len * kw, sub.k.begin());
  std::copy_n(pr.v.begin() + pos * kw, len * kw, sub.v.begin());
  sub.mask = pr.mask;
  return sub;
}

// Output row (b, i) over all heads.
std::vector<float> Row(const Problem& pr, int64_t b, int64_t i) {
  const int64_t w = pr.shape.num_heads * pr.shape.head_dim;
  const auto begin = pr.out.begin() + (b * pr.shape.q_len + i) * w;
  return std::vector<float>(begin, begin + w);
}

TEST(AttentionTest, BidirectionalMatchesReference) {
  for (const Shape& s : {Shape{1, 1, 1, 1, 1, 8}, Shape{3, 7, 129, 4, 4, 50},
                         Shape{2, 129, 300, 2, 2, 64}, Shape{3, 300, 7, 2, 1, 16}}) {
    SCOPED_TRACE(::testing::Message() << "q_len " << s.q_len << " kv_len " << s.kv_len);
    Problem pr(s, 7);
    ExpectMatchesReference(pr);
  }
}

TEST(AttentionTest, CausalPrefillMatchesReference) {
  for (int64_t len : {1, 7, 64, 65, 129, 300}) {
    SCOPED_TRACE(::testing::Message() << "len " << len);
    Problem pr({3, len, len, 2, 2, 32}, 11, 2.0f);
    pr.mask = AttentionMask::kCausal;
    ExpectMatchesReference(pr);
  }
}

TEST(AttentionTest, CausalQueriesAreTheLastKeyPositions) {
  for (const auto& [q_len, kv_len] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1000}, {7, 129}, {129, 300}, {64, 65}}) {
    SCOPED_TRACE(::testing::Message() << "q_len " << q_len << " kv_len " << kv_len);
    Problem pr({3, q_len, kv_len, 2, 2, 16}, 13, 2.0f);
    pr.mask = AttentionMask::kCausal;
    ExpectMatchesReference(pr);
  }
  // Decode: the single query is the last position, so it sees every key.
  Problem causal({2, 1, 1000, 4, 2, 64}, 17);
  causal.mask = AttentionMask::kCausal;
  Problem bidirectional = causal;
  bidirectional.mask = AttentionMask::kBidirectional;
  ASSERT_THAT(causal.Run(), IsOk());
  ASSERT_THAT(bidirectional.Run(), IsOk());
  EXPECT_THAT(causal.out, ::testing::Pointwise(::testing::FloatNear(1e-6f), bidirectional.out));
}

// SETRec-style layout: 3 instruction tokens (-1), 4 items x 3 tokens (ids 0..3), 2 response
// tokens (-1), 3 query tokens sharing id 4. The second batch entry renumbers the sets.
Problem SetsProblem() {
  Problem pr({2, 20, 20, 2, 2, 16}, 19, 2.0f);
  pr.mask = AttentionMask::kCausalSets;
  for (const std::vector<int32_t>& ids :
       {std::vector<int32_t>{0, 1, 2, 3, 4}, std::vector<int32_t>{9, 2, 7, 0, 5}}) {
    pr.set_ids.insert(pr.set_ids.end(), 3, -1);
    for (int item = 0; item < 4; ++item) pr.set_ids.insert(pr.set_ids.end(), 3, ids[item]);
    pr.set_ids.insert(pr.set_ids.end(), 2, -1);
    pr.set_ids.insert(pr.set_ids.end(), 3, ids[4]);
  }
  return pr;
}

TEST(AttentionTest, CausalSetsMatchesReference) {
  Problem pr = SetsProblem();
  ExpectMatchesReference(pr);
}

TEST(AttentionTest, CausalSetsHideSameSetTokensOnly) {
  Problem base = SetsProblem();
  ASSERT_THAT(base.Run(), IsOk());
  // Change key/value 6, the first token of item 1 (positions 6..8) in batch entry 0.
  Problem changed = base;
  const int64_t w = base.shape.num_kv_heads * base.shape.head_dim;
  for (int64_t e = 6 * w; e < 7 * w; ++e) changed.k[e] += 1.0f, changed.v[e] += 1.0f;
  ASSERT_THAT(changed.Run(), IsOk());
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(Row(changed, 0, i), Row(base, 0, i)) << i;  // causal
  EXPECT_NE(Row(changed, 0, 6), Row(base, 0, 6));  // a token sees itself
  EXPECT_EQ(Row(changed, 0, 7), Row(base, 0, 7));  // same set: hidden
  EXPECT_EQ(Row(changed, 0, 8), Row(base, 0, 8));
  for (int64_t i = 9; i < 20; ++i) EXPECT_NE(Row(changed, 0, i), Row(base, 0, i)) << i;
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(Row(changed, 1, i), Row(base, 1, i)) << i;
}

TEST(AttentionTest, LeftPaddingAsSasrec) {
  Problem pr({3, 40, 40, 2, 2, 32}, 23);
  pr.mask = AttentionMask::kCausal;
  const int64_t pads[] = {0, 10, 39};
  for (int64_t pad : pads) {
    for (int64_t j = 0; j < 40; ++j) pr.key_valid.push_back(j >= pad ? 1 : 0);
  }
  ExpectMatchesReference(pr);
  // Queries inside the padding see only padded keys: zeros.
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t i = 0; i < pads[b]; ++i) {
      EXPECT_THAT(Row(pr, b, i), ::testing::Each(0.0f)) << b << " " << i;
    }
  }
  // The rest equals an unpadded run on the suffix.
  Problem suffix = Slice(pr, 1, 10, 30);
  ASSERT_THAT(suffix.Run(), IsOk());
  for (int64_t i = 0; i < 30; ++i) {
    EXPECT_THAT(Row(pr, 1, 10 + i),
                ::testing::Pointwise(::testing::FloatNear(1e-6f), Row(suffix, 0, i)));
  }
}

TEST(AttentionTest, RightPaddingAsBert4rec) {
  Problem pr({3, 40, 40, 4, 4, 16}, 29);
  const int64_t lengths[] = {40, 25, 1};
  for (int64_t len : lengths) {
    for (int64_t j = 0; j < 40; ++j) pr.key_valid.push_back(j < len ? 1 : 0);
  }
  ExpectMatchesReference(pr);
  Problem prefix = Slice(pr, 1, 0, 25);
  ASSERT_THAT(prefix.Run(), IsOk());
  for (int64_t i = 0; i < 25; ++i) {
    EXPECT_THAT(Row(pr, 1, i),
                ::testing::Pointwise(::testing::FloatNear(1e-6f), Row(prefix, 0, i)));
  }
}

TEST(AttentionTest, FullyMaskedRowsAreZero) {
  // Batch entry 1 has no valid key; the gate must not turn its zeros into anything else.
  Problem pr({3, 9, 70, 2, 2, 16}, 31);
  pr.key_valid.assign(3 * 70, 1);
  std::fill_n(pr.key_valid.begin() + 70, 70, 0);
  pr.gate.assign(3 * 9 * 2, 0.5f);
  pr.gate_dim = 1;
  ExpectMatchesReference(pr);
  for (int64_t i = 0; i < 9; ++i) EXPECT_THAT(Row(pr, 1, i), ::testing::Each(0.0f));

  // No keys at all.
  Problem empty_keys({2, 3, 0, 2, 2, 8});
  ASSERT_THAT(empty_keys.Run(), IsOk());
  EXPECT_THAT(empty_keys.out, ::testing::Each(0.0f));
}

TEST(AttentionTest, GroupedQueryAttention) {
  Problem gqa({3, 33, 100, 8, 2, 32}, 37);
  gqa.mask = AttentionMask::kCausal;
  ExpectMatchesReference(gqa);
  // Same as multi-head attention with each KV head repeated for its 4 query heads.
  Problem mha({3, 33, 100, 8, 8, 32}, 37);
  mha.q = gqa.q;
  mha.mask = AttentionMask::kCausal;
  for (int64_t pos = 0; pos < 3 * 100; ++pos) {
    for (int64_t h = 0; h < 8; ++h) {
      std::copy_n(gqa.k.begin() + (pos * 2 + h / 4) * 32, 32, mha.k.begin() + (pos * 8 + h) * 32);
      std::copy_n(gqa.v.begin() + (pos * 2 + h / 4) * 32, 32, mha.v.begin() + (pos * 8 + h) * 32);
    }
  }
  ASSERT_THAT(mha.Run(), IsOk());
  EXPECT_THAT(gqa.out, ::testing::Pointwise(::testing::FloatNear(1e-6f), mha.out));
}

TEST(AttentionTest, HeadDims) {
  for (int64_t d : {1, 50, 64, 128}) {
    SCOPED_TRACE(::testing::Message() << "head_dim " << d);
    Problem pr({2, 70, 70, 3, 3, d}, 41);
    pr.mask = AttentionMask::kCausal;
    ExpectMatchesReference(pr);
  }
}

TEST(AttentionTest, LengthsAcrossTileBoundaries) {
  for (int64_t q_len : {1, 7, 63, 64, 65, 129, 300}) {
    for (int64_t kv_len : {1, 7, 63, 64, 65, 129, 300}) {
      SCOPED_TRACE(::testing::Message() << "q_len " << q_len << " kv_len " << kv_len);
      Problem pr({1, q_len, kv_len, 2, 1, 8}, 43, 2.0f);
      if (q_len <= kv_len) pr.mask = AttentionMask::kCausal;
      ExpectMatchesReference(pr);
    }
  }
}

TEST(AttentionTest, BiasWithEveryBroadcast) {
  const int64_t batch = 3, heads = 2, q_len = 9, kv_len = 70;
  for (bool per_batch : {true, false}) {
    for (bool per_head : {true, false}) {
      for (AttentionMask mask : {AttentionMask::kBidirectional, AttentionMask::kCausal}) {
        SCOPED_TRACE(::testing::Message() << "per_batch " << per_batch << " per_head " << per_head
                                          << " mask " << static_cast<int>(mask));
        Problem pr({batch, q_len, kv_len, heads, heads, 16}, 47);
        pr.mask = mask;
        pr.bias_head_stride = per_head ? q_len * kv_len : 0;
        pr.bias_batch_stride = per_batch ? (per_head ? heads : 1) * q_len * kv_len : 0;
        pr.bias.resize((per_batch ? batch : 1) * (per_head ? heads : 1) * q_len * kv_len);
        std::mt19937 rng(53);
        std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
        for (float& x : pr.bias) x = uniform(rng) < -1.6f ? -kInf : uniform(rng);
        std::fill_n(pr.bias.begin() + 4 * kv_len, kv_len, -kInf);  // (b 0, h 0, row 4): no key
        ExpectMatchesReference(pr);
        const std::vector<float> row = Row(pr, 0, 4);  // head 0 of it
        EXPECT_THAT(std::vector<float>(row.begin(), row.begin() + 16), ::testing::Each(0.0f));
      }
    }
  }
}

TEST(AttentionTest, GatePerHeadAndElementwise) {
  for (int64_t gate_dim : {1, 24}) {
    SCOPED_TRACE(::testing::Message() << "gate_dim " << gate_dim);
    Problem pr({3, 20, 50, 4, 2, 24}, 59);
    pr.gate_dim = gate_dim;
    pr.gate.resize(3 * 20 * 4 * gate_dim);
    std::mt19937 rng(61);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (float& x : pr.gate) x = normal(rng);
    ExpectMatchesReference(pr);
  }
}

TEST(AttentionTest, ExplicitScale) {
  Problem pr({2, 30, 80, 2, 2, 16}, 67);
  pr.scale = 0.7f;
  ExpectMatchesReference(pr);
  // scale = 1 / sqrt(head_dim) is the default.
  Problem by_default = pr;
  by_default.scale = 0.0f;
  pr.scale = 0.25f;
  ASSERT_THAT(pr.Run(), IsOk());
  ASSERT_THAT(by_default.Run(), IsOk());
  EXPECT_THAT(pr.out, ::testing::Pointwise(::testing::FloatNear(1e-6f), by_default.out));
}

TEST(AttentionTest, ZeroSizedIsNoOp) {
  AttentionParams p;  // batch 0, no pointers
  EXPECT_THAT(Attention(Device::Cpu(), p), IsOk());
  Problem no_queries({3, 0, 10, 2, 2, 8});
  no_queries.mask = AttentionMask::kCausal;
  EXPECT_THAT(no_queries.Run(), IsOk());
  Problem no_batch({0, 5, 5, 2, 2, 8});
  no_batch.mask = AttentionMask::kCausalSets;  // set_ids may be null: nothing to read
  EXPECT_THAT(no_batch.Run(), IsOk());
}

TEST(AttentionTest, InvalidArgumentsNameTheField) {
  Problem pr({2, 5, 5, 4, 2, 8});
  const auto expect_invalid = [&](auto mutate, const char* field) {
    AttentionParams p = pr.Params();
    mutate(p);
    EXPECT_THAT(Attention(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr(field))) << field;
  };
  expect_invalid([](AttentionParams& p) { p.num_heads = 6, p.num_kv_heads = 4; }, "num_kv_heads");
  expect_invalid([](AttentionParams& p) { p.num_heads = 6, p.num_kv_heads = 4; }, "num_heads (6)");
  expect_invalid([](AttentionParams& p) { p.k = nullptr; }, "k is null");
  expect_invalid([](AttentionParams& p) { p.out = nullptr; }, "out is null");
  expect_invalid([](AttentionParams& p) { p.batch = -1; }, "batch");
  expect_invalid([](AttentionParams& p) { p.head_dim = 0; }, "head_dim");
  expect_invalid([](AttentionParams& p) { p.num_kv_heads = 0; }, "num_kv_heads");
  expect_invalid([](AttentionParams& p) { p.mask = AttentionMask::kCausal, p.kv_len = 3; },
                 "q_len");
  expect_invalid([](AttentionParams& p) { p.mask = AttentionMask::kCausalSets; }, "set_ids");
  expect_invalid([](AttentionParams& p) { p.gate = p.q, p.gate_dim = 3; }, "gate_dim");
  expect_invalid([](AttentionParams& p) { p.scale = -1.0f; }, "scale");
  expect_invalid([](AttentionParams& p) { p.scale = std::nanf(""); }, "scale");
  expect_invalid([](AttentionParams& p) { p.bias = p.q, p.bias_head_stride = -1; },
                 "bias_head_stride");
  // Nothing was written.
  EXPECT_TRUE(std::all_of(pr.out.begin(), pr.out.end(), [](float x) { return std::isnan(x); }));
}

TEST(AttentionTest, CudaDeviceIsRejected) {
  Problem pr({1, 4, 4, 2, 2, 8});
  EXPECT_THAT(Attention(Device::Cuda(0), pr.Params()), Not(IsOk()));
}

// kv_len <= 256 takes the whole-row path (register-tiled GEMMs, or dot products against K as
// stored for blocks of fewer than 8 query rows), 257 the tiled online-softmax one. Around that
// boundary: both masks, key padding, bias, GQA and a head_dim (40) that is not a whole number
// of 32-float GEMM tiles.
TEST(AttentionTest, ShortSequencePathBoundaries) {
  for (const int64_t kv_len : {255, 256, 257}) {
    for (const int64_t q_len : {1, 5, 8, 67}) {
      for (const int64_t d : {40, 64}) {
        SCOPED_TRACE(::testing::Message()
                     << "kv_len " << kv_len << " q_len " << q_len << " head_dim " << d);
        Problem pr({2, q_len, kv_len, 4, 2, d}, 73, 2.0f);
        pr.mask = q_len % 2 == 1 ? AttentionMask::kCausal : AttentionMask::kBidirectional;
        pr.key_valid.assign(2 * kv_len, 1);
        std::fill_n(pr.key_valid.begin() + kv_len, kv_len / 3, 0);  // entry 1: left padding
        std::mt19937 rng(79);
        std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
        pr.bias.resize(2 * q_len * kv_len);  // per batch entry, shared by the heads
        for (float& x : pr.bias) x = uniform(rng);
        pr.bias_batch_stride = q_len * kv_len;
        ExpectMatchesReference(pr);
      }
    }
  }
}

// The whole-row path keeps K and V of the last (batch entry, KV head) per thread; a later call
// with new contents in the same buffers must not reuse them.
TEST(AttentionTest, LaterCallsSeeNewKeysAndValues) {
  Problem pr({2, 70, 100, 2, 1, 40}, 83);
  ASSERT_THAT(pr.Run(), IsOk());
  for (float& x : pr.k) x = -0.5f * x;
  for (float& x : pr.v) x += 1.0f;
  ExpectMatchesReference(pr);
}

TEST(AttentionTest, LongCausalSequence) {
  Problem pr({1, 2048, 2048, 2, 2, 64}, 71, 2.0f);
  pr.mask = AttentionMask::kCausal;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_THAT(pr.Run(), IsOk());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("kernel_ms", static_cast<int>(seconds * 1000));
  ExpectOutputMatchesReference(pr,
                               {0, 1, 63, 64, 65, 127, 128, 1000, 1023, 1024, 1500, 2046, 2047});
  EXPECT_LT(seconds, 5.0);
}

}  // namespace
}  // namespace recsys::kernels
