#include <gtest/gtest.h>

#include <cmath>

#include "tensor/cpu/parallel.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"

using namespace gb;

TEST(Tensor, CreationShapeStrides) {
  Tensor t = Tensor::zeros({2, 3, 4, 5, 6});
  EXPECT_EQ(t.dim(), 5);
  EXPECT_EQ(t.numel(), 720);
  EXPECT_EQ(t.strides(), (Shape{360, 120, 30, 6, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.desc(), "f32[2,3,4,5,6] cpu");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(Tensor::full({3}, 2.5, DType::F64).to_vector(), (std::vector<double>{2.5, 2.5, 2.5}));
}

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::arange(24).view_reshape({2, 3, 4});
  Tensor p = t.view_permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at({1, 1, 2}), t.at({1, 2, 1}));
  Tensor s = t.view_slice(2, 1, 4, 2);  // columns 1, 3
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.at({1, 2, 1}), 23.0);
  s.fill(-1);
  EXPECT_EQ(t.at({0, 0, 1}), -1.0);  // written through the view
  EXPECT_EQ(t.at({0, 0, 2}), 2.0);
  Tensor e = Tensor::arange(3).view_reshape({3, 1}).view_expand({2, 3, 4});
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_EQ(e.at({1, 2, 3}), 2.0);
  Tensor c = p.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), p.to_vector());
  EXPECT_NE(c.storage(), p.storage());
}

TEST(Tensor, ReshapeInfersAndRejects) {
  Tensor t = Tensor::arange(12);
  EXPECT_EQ(t.view_reshape({3, -1}).shape(), (Shape{3, 4}));
  EXPECT_THROW(t.view_reshape({5, -1}), Error);
  try {
    t.view_reshape({5, 3});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reshape"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[5,3]"), std::string::npos);
  }
  // A non-contiguous tensor reshapes by copying.
  Tensor tt = t.view_reshape({3, 4}).view_permute({1, 0});
  Tensor r = tt.view_reshape({12});
  EXPECT_EQ(r.at({1}), 4.0);
}

TEST(Tensor, DtypeConversionAndErrors) {
  Tensor t = Tensor::from_vector(std::vector<float>{1.5f, -2.25f}, {2});
  Tensor d = t.to(DType::F64);
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_EQ(d.to_vector(), (std::vector<double>{1.5, -2.25}));
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(Tensor::zeros({1, 2, 3, 4, 5, 6, 7, 8, 9}), Error);
  EXPECT_THROW(Tensor::zeros({2, 2}, DType::F32, Device::CUDA), Error) << "no CUDA allocator in this test build";
}

TEST(Philox, KnownAnswerVectors) {
  // Random123 known-answer tests for philox4x32_10.
  uint32_t out[4];
  const uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
  philox4x32_10(c0, k0, out);
  EXPECT_EQ(out[0], 0x6627e8d5u);
  EXPECT_EQ(out[1], 0xe169c58du);
  EXPECT_EQ(out[2], 0xbc57ac4cu);
  EXPECT_EQ(out[3], 0x9b00dbd8u);
  const uint32_t c1[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, k1[2] = {0xffffffffu, 0xffffffffu};
  philox4x32_10(c1, k1, out);
  EXPECT_EQ(out[0], 0x408f276du);
  EXPECT_EQ(out[1], 0x41c83b0eu);
  EXPECT_EQ(out[2], 0xa20bc7c6u);
  EXPECT_EQ(out[3], 0x6d5451fdu);
  const uint32_t c2[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, k2[2] = {0xa4093822u, 0x299f31d0u};
  philox4x32_10(c2, k2, out);
  EXPECT_EQ(out[0], 0xd16cfe09u);
  EXPECT_EQ(out[1], 0x94fdccebu);
  EXPECT_EQ(out[2], 0x5001e420u);
  EXPECT_EQ(out[3], 0x24126ea1u);
}

TEST(Philox, SeedNamesStreamAndStatistics) {
  Generator a(42), b(42), c(43);
  Tensor x = Tensor::empty({10000}), y = Tensor::empty({10000}), z = Tensor::empty({10000});
  a.normal_(x);
  b.normal_(y);
  c.normal_(z);
  EXPECT_EQ(x.to_vector(), y.to_vector());
  EXPECT_NE(x.to_vector(), z.to_vector());
  double m = 0, v = 0;
  for (double e : x.to_vector()) m += e;
  m /= 10000;
  for (double e : x.to_vector()) v += (e - m) * (e - m);
  v /= 10000;
  EXPECT_NEAR(m, 0.0, 0.05);
  EXPECT_NEAR(v, 1.0, 0.05);
  // Successive draws differ; restoring the offset replays.
  Tensor u1 = Tensor::empty({5}), u2 = Tensor::empty({5});
  uint64_t off = a.offset();
  a.uniform_(u1);
  a.set_offset(off);
  a.uniform_(u2);
  EXPECT_EQ(u1.to_vector(), u2.to_vector());
  for (double e : u1.to_vector()) EXPECT_TRUE(e >= 0 && e < 1);
}

// The fills split their counter blocks over threads: every thread count gives the values of one
// serial walk over the blocks (element i = word i % 4 of block offset + i / 4), and the offset moves
// past them as before.
TEST(Philox, FillsAreThreadCountIndependentAndMatchTheBlocks) {
  const int64_t n = 100003;  // several parallel chunks and a partial last block
  std::vector<std::vector<double>> got;
  for (int threads : {1, 2, 3}) {
    cpu::set_num_threads(threads);
    Generator g(7, 3);
    Tensor u = Tensor::empty({n}), m = Tensor::empty({n}, DType::F64), z = Tensor::empty({n});
    g.uniform_(u);
    g.bernoulli_(m, 0.3);
    g.normal_(z);
    EXPECT_EQ(g.offset(), (uint64_t)(3 * ((n + 3) / 4)));
    std::vector<double> all = u.to_vector(), mv = m.to_vector(), zv = z.to_vector();
    all.insert(all.end(), mv.begin(), mv.end());
    all.insert(all.end(), zv.begin(), zv.end());
    got.push_back(all);
  }
  cpu::set_num_threads(2);
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[0], got[2]);
  // A uniform element equals the one a 4-element fill from its block's offset draws.
  for (int64_t i : {int64_t(0), int64_t(5), int64_t(4096 * 4 + 1), n - 1}) {
    Generator b(7, 3);
    b.set_offset((uint64_t)(i / 4));
    Tensor one = Tensor::empty({4});
    b.uniform_(one);
    EXPECT_EQ(got[0][(size_t)i], one.to_vector()[(size_t)(i % 4)]) << "element " << i;
  }
}

TEST(Parallel, EveryIndexOnceAnyThreadCount) {
  for (int threads : {1, 2, 3}) {
    cpu::set_num_threads(threads);
    std::vector<int> hits(1001, 0);
    cpu::parallel_for(1001, 7, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
  cpu::set_num_threads(2);
}

// Many short regions back to back, with fewer chunks than workers now and then (workers that sit a
// region out must not run the next one twice) and pool resizes between: the hot-worker handshake of
// tensor/cpu/parallel.cpp. A lost wake-up hangs here; a double run or a skipped chunk miscounts.
TEST(Parallel, ManyShortRegionsEveryIndexOnce) {
  for (int threads : {2, 3, 4}) {
    cpu::set_num_threads(threads);
    std::vector<int> hits(64, 0);
    int64_t expect = 0;
    for (int r = 0; r < 5000; ++r) {
      const int64_t n = 1 + r % 7;  // 1..7 items, grain 1: 1..threads chunks
      cpu::parallel_for(n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[(size_t)i]++;
      });
      expect += n;
    }
    int64_t total = 0;
    for (int h : hits) total += h;
    ASSERT_EQ(total, expect) << threads << " threads";
    for (int64_t i = 0; i < 7; ++i) {
      int64_t want = 0;
      for (int r = 0; r < 5000; ++r) want += (1 + r % 7) > i;
      ASSERT_EQ(hits[(size_t)i], want) << "index " << i << ", " << threads << " threads";
    }
  }
  cpu::set_num_threads(2);
}

TEST(Tensor, UndefinedTensorGivesErrorsNotCrashes) {
  Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_EQ(u.desc(), "undefined");
  EXPECT_THROW(u.shape(), Error);
  EXPECT_THROW(u.dtype(), Error);
  EXPECT_THROW(u.to_vector(), Error);
  EXPECT_THROW(u.contiguous(), Error);
  EXPECT_THROW(u.data<float>(), Error);
}
