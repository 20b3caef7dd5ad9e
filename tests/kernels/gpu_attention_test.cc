// Label gpu: the CUDA attention, attention mass, target attention and catalogue top-K against
// the CPU path on the same inputs. Skips without a CUDA device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "recsys/kernels/attention.h"
#include "recsys/kernels/attention_mass.h"
#include "recsys/kernels/target_attention.h"
#include "recsys/kernels/topk.h"
#include "tests/kernels/gpu_test_util.h"

namespace recsys::kernels::testing {
namespace {

constexpr int64_t kMaxTopKForTest = 1024;  // the CUDA kernels' top-K limit

struct AttentionCase {
  int64_t batch, q_len, kv_len, heads, kv_heads, dim;
  AttentionMask mask = AttentionMask::kBidirectional;
  bool padding = false, bias = false, sets = false;
  int64_t gate_dim = 0;
};

class GpuAttentionTest : public GpuTest {
 protected:
  void CompareAttention(const AttentionCase& c) {
    SCOPED_TRACE(::testing::Message()
                 << "B=" << c.batch << " Sq=" << c.q_len << " Skv=" << c.kv_len << " H=" << c.heads
                 << "/" << c.kv_heads << " D=" << c.dim << " mask=" << static_cast<int>(c.mask));
    const std::vector<float> q = RandomFloats(c.batch * c.q_len * c.heads * c.dim, 21, -2, 2);
    const std::vector<float> k = RandomFloats(c.batch * c.kv_len * c.kv_heads * c.dim, 22, -2, 2);
    const std::vector<float> v = RandomFloats(c.batch * c.kv_len * c.kv_heads * c.dim, 23);
    std::vector<uint8_t> valid(c.batch * c.kv_len, 1);
    if (c.padding) {
      for (int64_t b = 0; b < c.batch; ++b) {
        for (int64_t j = 0; j < c.kv_len; ++j) valid[b * c.kv_len + j] = (j * 7 + b) % 5 != 0;
      }
      for (int64_t j = 0; j < c.kv_len; ++j) valid[j] = 0;  // batch 0: every key padded
    }
    std::vector<int32_t> set_ids(c.batch * c.kv_len);
    for (size_t i = 0; i < set_ids.size(); ++i) set_ids[i] = (i % 7 < 3) ? -1 : int32_t(i / 4);
    const std::vector<float> bias = RandomFloats(c.q_len * c.kv_len, 24);
    const std::vector<float> gate = RandomFloats(c.batch * c.q_len * c.heads * c.gate_dim, 25);
    DeviceBuffer dq = Upload(q), dk = Upload(k), dv = Upload(v), dvalid = Upload(valid),
                 dsets = Upload(set_ids), dbias = Upload(bias), dgate = Upload(gate);
    DeviceBuffer dout = Upload(std::vector<float>(q.size()));
    std::vector<float> out(q.size());

    AttentionParams p;
    p.batch = c.batch, p.q_len = c.q_len, p.kv_len = c.kv_len;
    p.num_heads = c.heads, p.num_kv_heads = c.kv_heads, p.head_dim = c.dim;
    p.mask = c.sets ? AttentionMask::kCausalSets : c.mask;
    p.gate_dim = c.gate_dim;
    AttentionParams g = p;
    p.q = q.data(), p.k = k.data(), p.v = v.data(), p.out = out.data();
    g.q = dq.as<float>(), g.k = dk.as<float>(), g.v = dv.as<float>(), g.out = dout.as<float>();
    if (c.padding) p.key_valid = valid.data(), g.key_valid = dvalid.as<uint8_t>();
    if (c.sets) p.set_ids = set_ids.data(), g.set_ids = dsets.as<int32_t>();
    if (c.bias) {  // one [q_len, kv_len] bias broadcast over batch and heads
      p.bias = bias.data(), g.bias = dbias.as<float>();
    }
    if (c.gate_dim > 0) p.gate = gate.data(), g.gate = dgate.as<float>();
    ASSERT_TRUE(Attention(cpu_, p).ok());
    const absl::Status status = Attention(gpu_, g);
    ASSERT_TRUE(status.ok()) << status;
    ExpectNear(Download<float>(dout, out.size()), out, 2e-5f, 2e-4f, "out");
  }
};

TEST_F(GpuAttentionTest, MatchesCpuAcrossMasksAndShapes) {
  const AttentionCase cases[] = {
      {1, 1, 1, 1, 1, 8},
      {3, 50, 50, 2, 2, 50, AttentionMask::kCausal},
      {2, 37, 37, 4, 2, 64, AttentionMask::kCausal, true},  // GQA + padding
      {2, 1, 77, 8, 2, 64, AttentionMask::kCausal},         // decode
      {2, 19, 300, 2, 1, 32, AttentionMask::kCausal},       // suffix queries
      {4, 200, 200, 2, 2, 64, AttentionMask::kBidirectional, true},
      {2, 45, 45, 2, 2, 48, AttentionMask::kCausal, false, false, true},  // SETRec sets
      {2, 33, 65, 2, 2, 16, AttentionMask::kBidirectional, false, true},  // bias
      {2, 20, 20, 3, 3, 40, AttentionMask::kBidirectional, false, false, false, 1},
      {2, 20, 20, 3, 3, 40, AttentionMask::kCausal, true, false, false, 40},
      {1, 70, 70, 1, 1, 128, AttentionMask::kCausal},
      {1, 40, 40, 2, 1, 256, AttentionMask::kBidirectional},
  };
  for (const AttentionCase& c : cases) CompareAttention(c);
}

TEST_F(GpuAttentionTest, HeadDimBeyondTheKernelLimitIsInvalid) {
  AttentionParams p;
  p.batch = 1, p.q_len = 2, p.kv_len = 2, p.num_heads = 1, p.num_kv_heads = 1, p.head_dim = 300;
  DeviceBuffer buffer = Upload(std::vector<float>(600));
  p.q = p.k = p.v = buffer.as<float>();
  DeviceBuffer out = Upload(std::vector<float>(600));
  p.out = out.as<float>();
  EXPECT_EQ(Attention(gpu_, p).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GpuAttentionTest, AttentionMassMatchesCpu) {
  const int64_t q_len = 9, kv_len = 3001, heads = 4, kv_heads = 2, dim = 64, q_position = 2500;
  const std::vector<float> q = RandomFloats(q_len * heads * dim, 31, -2, 2);
  const std::vector<float> k = RandomFloats(kv_len * kv_heads * dim, 32, -2, 2);
  std::vector<float> mass = RandomFloats(kv_len, 33, 0, 1);
  DeviceBuffer dq = Upload(q), dk = Upload(k), dmass = Upload(mass);
  for (bool accumulate : {true, false}) {
    AttentionMassParams p;
    p.q_len = q_len, p.kv_len = kv_len, p.num_heads = heads, p.num_kv_heads = kv_heads;
    p.head_dim = dim, p.q_position = q_position, p.accumulate = accumulate;
    AttentionMassParams g = p;
    p.q = q.data(), p.k = k.data(), p.mass = mass.data();
    g.q = dq.as<float>(), g.k = dk.as<float>(), g.mass = dmass.as<float>();
    ASSERT_TRUE(AttentionMass(cpu_, p).ok());
    ASSERT_TRUE(AttentionMass(gpu_, g).ok());
    ExpectNear(Download<float>(dmass, kv_len), mass, 1e-6f, 1e-4f, "mass");
  }
}

// Positions may differ from the CPU's only where two scores tie within float rounding.
void ExpectSameSelection(const std::vector<int64_t>& gpu, const std::vector<float>& gpu_scores,
                         const std::vector<int64_t>& cpu, const std::vector<float>& cpu_scores) {
  ASSERT_EQ(gpu.size(), cpu.size());
  int mismatches = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    if (gpu[i] == cpu[i]) continue;
    ++mismatches;
    EXPECT_NEAR(gpu_scores[i], cpu_scores[i], 1e-4f)
        << "rank " << i << ": gpu position " << gpu[i] << " vs cpu " << cpu[i];
  }
  EXPECT_LE(mismatches, static_cast<int>(gpu.size() / 50 + 2));
}

TEST_F(GpuAttentionTest, TargetAttentionMatchesCpuAtLongHistory) {
  struct Case {
    int64_t candidates, history, att_dim, value_dim, split, top_k;
    bool padding;
  };
  for (const Case& c : {Case{7, 100000, 48, 64, 16, 20, true},
                        Case{300, 2000, 24, 48, 0, 64, false}, Case{3, 5, 8, 8, 0, 20, true}}) {
    SCOPED_TRACE(::testing::Message() << "C=" << c.candidates << " L=" << c.history);
    const std::vector<float> q = RandomFloats(c.candidates * c.att_dim, 41);
    const std::vector<float> k = RandomFloats(c.history * c.att_dim, 42);
    const std::vector<float> v = RandomFloats(c.history * c.value_dim, 43);
    std::vector<uint8_t> valid(c.history, 1);
    if (c.padding) {
      for (int64_t j = 0; j < c.history; j += 3) valid[j] = 0;
    }
    DeviceBuffer dq = Upload(q), dk = Upload(k), dv = Upload(v), dvalid = Upload(valid);
    const int64_t ck = c.candidates * c.top_k;
    DeviceBuffer dout = Upload(std::vector<float>(c.candidates * c.value_dim));
    DeviceBuffer dsel = Upload(std::vector<int64_t>(ck)), dw = Upload(std::vector<float>(ck)),
                 ds = Upload(std::vector<float>(ck));
    std::vector<float> out(c.candidates * c.value_dim), w(ck), s(ck);
    std::vector<int64_t> sel(ck);
    TargetAttentionParams p;
    p.num_candidates = c.candidates, p.history_len = c.history, p.att_dim = c.att_dim;
    p.value_dim = c.value_dim, p.split_dim = c.split, p.top_k = c.top_k;
    TargetAttentionParams g = p;
    p.queries = q.data(), p.keys = k.data(), p.values = v.data();
    p.out = out.data(), p.selected = sel.data(), p.weights = w.data(), p.scores = s.data();
    g.queries = dq.as<float>(), g.keys = dk.as<float>(), g.values = dv.as<float>();
    g.out = dout.as<float>(), g.selected = dsel.as<int64_t>(), g.weights = dw.as<float>();
    g.scores = ds.as<float>();
    if (c.padding) p.key_valid = valid.data(), g.key_valid = dvalid.as<uint8_t>();
    ASSERT_TRUE(TargetAttentionTopK(cpu_, p).ok());
    const absl::Status status = TargetAttentionTopK(gpu_, g);
    ASSERT_TRUE(status.ok()) << status;
    const std::vector<float> gpu_scores = Download<float>(ds, ck);
    ExpectSameSelection(Download<int64_t>(dsel, ck), gpu_scores, sel, s);
    ExpectNear(gpu_scores, s, 1e-5f, 1e-4f, "scores");
    ExpectNear(Download<float>(dw, ck), w, 1e-5f, 1e-4f, "weights");
    ExpectNear(Download<float>(dout, out.size()), out, 1e-5f, 1e-4f, "out");
  }
}

TEST_F(GpuAttentionTest, TargetAttentionTiesAcrossWarpsGoToTheLowestPositions) {
  // att_dim 0: every score is 0, so the top-K are the first valid positions.
  const int64_t c = 2, l = 5000, k = kMaxTopKForTest;
  const std::vector<float> v = RandomFloats(l * 4, 44);
  std::vector<uint8_t> valid(l, 1);
  valid[3] = 0;
  DeviceBuffer dv = Upload(v), dvalid = Upload(valid), dummy = Upload(std::vector<float>(1));
  DeviceBuffer dout = Upload(std::vector<float>(c * 4)), dsel = Upload(std::vector<int64_t>(c * k)),
               dw = Upload(std::vector<float>(c * k));
  TargetAttentionParams g;
  g.num_candidates = c, g.history_len = l, g.att_dim = 0, g.value_dim = 4, g.top_k = k;
  g.queries = g.keys = dummy.as<float>();
  g.values = dv.as<float>(), g.key_valid = dvalid.as<uint8_t>();
  g.out = dout.as<float>(), g.selected = dsel.as<int64_t>(), g.weights = dw.as<float>();
  const absl::Status status = TargetAttentionTopK(gpu_, g);
  ASSERT_TRUE(status.ok()) << status;
  const std::vector<int64_t> sel = Download<int64_t>(dsel, c * k);
  for (int64_t r = 0; r < k; ++r) EXPECT_EQ(sel[r], r < 3 ? r : r + 1) << r;
}

TEST_F(GpuAttentionTest, TargetAttentionNeverSelectsMinusInfinityOrNan) {
  // Query 1s; key j = -inf in one dim gives score -inf, NaN gives NaN. Candidate 1 sees only
  // such keys and gets padding, as on the CPU.
  const int64_t l = 6, d = 4, k = 4;
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> keys = RandomFloats(2 * l * d, 45);
  keys[1 * d] = -inf, keys[3 * d + 2] = -inf, keys[4 * d] = nan;
  for (int64_t j = l; j < 2 * l; ++j) keys[j * d] = j % 2 ? -inf : nan;
  const std::vector<float> q(d, 1.0f), v = RandomFloats(2 * l * 3, 46);
  for (int64_t part = 0; part < 2; ++part) {
    SCOPED_TRACE(part);
    const std::vector<float> kp(keys.begin() + part * l * d, keys.begin() + (part + 1) * l * d);
    const std::vector<float> vp(v.begin() + part * l * 3, v.begin() + (part + 1) * l * 3);
    DeviceBuffer dq = Upload(q), dk = Upload(kp), dv = Upload(vp);
    DeviceBuffer dout = Upload(std::vector<float>(3)), dsel = Upload(std::vector<int64_t>(k)),
                 dw = Upload(std::vector<float>(k));
    std::vector<float> out(3), w(k);
    std::vector<int64_t> sel(k);
    TargetAttentionParams p;
    p.num_candidates = 1, p.history_len = l, p.att_dim = d, p.value_dim = 3, p.top_k = k;
    TargetAttentionParams g = p;
    p.queries = q.data(), p.keys = kp.data(), p.values = vp.data();
    p.out = out.data(), p.selected = sel.data(), p.weights = w.data();
    g.queries = dq.as<float>(), g.keys = dk.as<float>(), g.values = dv.as<float>();
    g.out = dout.as<float>(), g.selected = dsel.as<int64_t>(), g.weights = dw.as<float>();
    ASSERT_TRUE(TargetAttentionTopK(cpu_, p).ok());
    const absl::Status status = TargetAttentionTopK(gpu_, g);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(Download<int64_t>(dsel, k), sel);
    for (int64_t j : sel) EXPECT_TRUE(j != 1 && j != 3 && j != 4) << j;
    ExpectNear(Download<float>(dw, k), w, 1e-6f, 1e-5f, "weights");
    ExpectNear(Download<float>(dout, 3), out, 1e-6f, 1e-5f, "out");
  }
}

TEST_F(GpuAttentionTest, CatalogNanScoresRankLastAndFullyExcludedUsersGetPadding) {
  const int64_t batch = 2, items = 10, dim = 2, k = 4;
  std::vector<float> table = RandomFloats(items * dim, 54);
  table[0] = std::numeric_limits<float>::quiet_NaN();  // item 0 scores NaN
  const std::vector<float> users = RandomFloats(batch * dim, 55);
  // User 0 excludes items 1..8 (eligible: 0 with NaN, 9); user 1 excludes everything.
  std::vector<int64_t> offsets = {0, 8, 18}, excluded;
  for (int64_t i = 1; i <= 8; ++i) excluded.push_back(i);
  for (int64_t i = 0; i < 10; ++i) excluded.push_back(i);
  DeviceBuffer du = Upload(users), dt = Upload(table), doff = Upload(offsets),
               dex = Upload(excluded), dids = Upload(std::vector<int64_t>(batch * k)),
               ds = Upload(std::vector<float>(batch * k));
  std::vector<int64_t> ids(batch * k);
  std::vector<float> scores(batch * k);
  CatalogTopKParams p;
  p.batch = batch, p.num_items = items, p.dim = dim, p.k = k;
  CatalogTopKParams g = p;
  p.users = users.data(), p.items = table.data(), p.exclude_offsets = offsets.data();
  p.exclude_ids = excluded.data(), p.out_ids = ids.data(), p.out_scores = scores.data();
  g.users = du.as<float>(), g.items = dt.as<float>(), g.exclude_offsets = doff.as<int64_t>();
  g.exclude_ids = dex.as<int64_t>(), g.out_ids = dids.as<int64_t>(), g.out_scores = ds.as<float>();
  ASSERT_TRUE(CatalogTopK(cpu_, p).ok());
  const absl::Status status = CatalogTopK(gpu_, g);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Download<int64_t>(dids, ids.size()), ids);
  ExpectNear(Download<float>(ds, scores.size()), scores, 1e-6f, 1e-5f, "scores");
}

TEST_F(GpuAttentionTest, CatalogTopKMatchesCpuWithExclusionsAndBias) {
  const int64_t batch = 5, items = 100003, dim = 32, k = 50;
  const std::vector<float> users = RandomFloats(batch * dim, 51);
  const std::vector<float> table = RandomFloats(items * dim, 52);
  const std::vector<float> bias = RandomFloats(items, 53, -0.1f, 0.1f);
  std::vector<int64_t> offsets = {0}, excluded;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t e = 0; e < 1000 * b; ++e) excluded.push_back((e * 7919 + b) % (items + 10));
    offsets.push_back(static_cast<int64_t>(excluded.size()));
  }
  DeviceBuffer du = Upload(users), dt = Upload(table), db = Upload(bias), doff = Upload(offsets),
               dex = Upload(excluded);
  DeviceBuffer dids = Upload(std::vector<int64_t>(batch * k)),
               dscores = Upload(std::vector<float>(batch * k));
  std::vector<int64_t> ids(batch * k);
  std::vector<float> scores(batch * k);
  CatalogTopKParams p;
  p.batch = batch, p.num_items = items, p.dim = dim, p.k = k;
  CatalogTopKParams g = p;
  p.users = users.data(), p.items = table.data(), p.item_bias = bias.data();
  p.exclude_offsets = offsets.data(), p.exclude_ids = excluded.data();
  p.out_ids = ids.data(), p.out_scores = scores.data();
  g.users = du.as<float>(), g.items = dt.as<float>(), g.item_bias = db.as<float>();
  g.exclude_offsets = doff.as<int64_t>(), g.exclude_ids = dex.as<int64_t>();
  g.out_ids = dids.as<int64_t>(), g.out_scores = dscores.as<float>();
  ASSERT_TRUE(CatalogTopK(cpu_, p).ok());
  const absl::Status status = CatalogTopK(gpu_, g);
  ASSERT_TRUE(status.ok()) << status;
  const std::vector<float> gpu_scores = Download<float>(dscores, scores.size());
  ExpectSameSelection(Download<int64_t>(dids, ids.size()), gpu_scores, ids, scores);
  ExpectNear(gpu_scores, scores, 1e-5f, 1e-4f, "scores");

  // More than the eligible items: padded with -1 / -inf like the CPU.
  CatalogTopKParams small = g;
  small.num_items = 3, small.exclude_offsets = nullptr, small.exclude_ids = nullptr;
  ASSERT_TRUE(CatalogTopK(gpu_, small).ok());
  const std::vector<int64_t> padded = Download<int64_t>(dids, k);
  EXPECT_NE(padded[2], -1);
  EXPECT_EQ(padded[3], -1);
  EXPECT_EQ(padded[k - 1], -1);

  CatalogTopKParams too_many = g;
  too_many.k = 5000;
  EXPECT_EQ(CatalogTopK(gpu_, too_many).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys::kernels::testing
