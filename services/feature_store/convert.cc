#include "services/feature_store/convert.h"

#include <algorithm>
#include <string>

namespace recsys::feature_store {
namespace {

store::IndexType FromProto(pb::IndexSpec::Type type) {
  switch (type) {
    case pb::IndexSpec::TYPE_IVF_FLAT:
      return store::IndexType::kIvfFlat;
    case pb::IndexSpec::TYPE_HNSW:
      return store::IndexType::kHnsw;
    default:
      return store::IndexType::kFlat;
  }
}

pb::IndexSpec::Type ToProto(store::IndexType type) {
  switch (type) {
    case store::IndexType::kIvfFlat:
      return pb::IndexSpec::TYPE_IVF_FLAT;
    case store::IndexType::kHnsw:
      return pb::IndexSpec::TYPE_HNSW;
    default:
      return pb::IndexSpec::TYPE_FLAT;
  }
}

}  // namespace

store::Event FromProto(const ::recsys::common::v1::Event& event) {
  store::Event out;
  out.event_id = event.event_id();
  out.user_id = event.user_id();
  out.item_id = event.item_id();
  out.category_id = event.category_id();
  out.type = static_cast<int32_t>(event.type());
  out.timestamp_ms = event.timestamp_ms();
  out.values.assign(event.values().begin(), event.values().end());
  // Map order is unspecified; sort so equal events encode identically.
  std::sort(out.values.begin(), out.values.end());
  return out;
}

void ToProto(const store::Event& event, ::recsys::common::v1::Event* out) {
  out->set_event_id(event.event_id);
  out->set_user_id(event.user_id);
  out->set_item_id(event.item_id);
  out->set_category_id(event.category_id);
  out->set_type(static_cast<::recsys::common::v1::EventType>(event.type));
  out->set_timestamp_ms(event.timestamp_ms);
  for (const auto& [name, value] : event.values) (*out->mutable_values())[name] = value;
}

store::Behavior FromProto(const ::recsys::common::v1::Behavior& b) {
  return {b.item_id(), b.category_id(), b.timestamp_ms(), static_cast<int32_t>(b.type())};
}

void ToProto(const store::Behavior& b, ::recsys::common::v1::Behavior* out) {
  out->set_item_id(b.item_id);
  out->set_category_id(b.category_id);
  out->set_timestamp_ms(b.timestamp_ms);
  out->set_type(static_cast<::recsys::common::v1::EventType>(b.type));
}

void ToProto(const std::string& user_id, const store::UserHistory& history,
             pb::UserHistory* out) {
  out->set_user_id(user_id);
  out->set_total_events(history.total_events);
  auto* behaviors = out->mutable_history()->mutable_behaviors();
  behaviors->Reserve(static_cast<int>(history.behaviors.size()));
  for (const store::Behavior& b : history.behaviors) ToProto(b, behaviors->Add());
}

store::UserHistory FromProto(const pb::UserHistory& history) {
  store::UserHistory out;
  out.total_events = history.total_events();
  out.behaviors.reserve(history.history().behaviors_size());
  for (const auto& b : history.history().behaviors()) out.behaviors.push_back(FromProto(b));
  return out;
}

store::Item FromProto(const pb::Item& item) {
  store::Item out;
  out.item_id = item.item_id();
  out.category_id = item.category_id();
  out.attributes.assign(item.attributes().begin(), item.attributes().end());
  std::sort(out.attributes.begin(), out.attributes.end());
  out.text = item.text();
  return out;
}

void ToProto(const store::Item& item, pb::Item* out) {
  out->set_item_id(item.item_id);
  out->set_category_id(item.category_id);
  for (const auto& [key, value] : item.attributes) (*out->mutable_attributes())[key] = value;
  out->set_text(item.text);
}

store::TableSpec FromProto(const pb::EmbeddingTableSpec& spec) {
  store::TableSpec out;
  out.name = spec.name();
  out.version = spec.version();
  out.dim = spec.dim();
  out.index.type = FromProto(spec.index().type());
  out.index.metric =
      spec.index().metric() == pb::METRIC_L2 ? store::Metric::kL2 : store::Metric::kInnerProduct;
  out.index.nlist = spec.index().nlist();
  out.index.nprobe = spec.index().nprobe();
  out.index.hnsw_m = spec.index().hnsw_m();
  out.index.ef_search = spec.index().ef_search();
  return out;
}

void ToProto(const store::TableSpec& spec, pb::EmbeddingTableSpec* out) {
  out->set_name(spec.name);
  out->set_version(spec.version);
  out->set_dim(spec.dim);
  pb::IndexSpec* index = out->mutable_index();
  index->set_type(ToProto(spec.index.type));
  index->set_metric(spec.index.metric == store::Metric::kL2 ? pb::METRIC_L2
                                                            : pb::METRIC_INNER_PRODUCT);
  index->set_nlist(spec.index.nlist);
  index->set_nprobe(spec.index.nprobe);
  index->set_hnsw_m(spec.index.hnsw_m);
  index->set_ef_search(spec.index.ef_search);
}

store::NeighborQuery FromProto(const pb::NeighborQuery& query) {
  store::NeighborQuery out;
  if (query.has_vector()) {
    out.vector.assign(query.vector().values().begin(), query.vector().values().end());
  } else {
    out.item_id = query.item_id();
  }
  out.k = query.k();
  out.exclude_item_ids.assign(query.filter().exclude_item_ids().begin(),
                              query.filter().exclude_item_ids().end());
  out.include_category_ids.assign(query.filter().include_category_ids().begin(),
                                  query.filter().include_category_ids().end());
  return out;
}

void ToProto(const store::NeighborQuery& query, pb::NeighborQuery* out) {
  if (!query.vector.empty()) {
    out->mutable_vector()->mutable_values()->Add(query.vector.begin(), query.vector.end());
  } else {
    out->set_item_id(query.item_id);
  }
  out->set_k(query.k);
  out->mutable_filter()->mutable_exclude_item_ids()->Add(query.exclude_item_ids.begin(),
                                                         query.exclude_item_ids.end());
  out->mutable_filter()->mutable_include_category_ids()->Add(query.include_category_ids.begin(),
                                                             query.include_category_ids.end());
}

}  // namespace recsys::feature_store
