// recsys.feature_store.v1 messages <-> the store library's structs. Shared by the service
// (server side) and the remote store (client side), so both sides agree field by field.
#pragma once

#include <vector>

#include "recsys/feature_store/v1/feature_store.pb.h"
#include "recsys/store/feature_store.h"

namespace recsys::feature_store {

namespace pb = ::recsys::feature_store::v1;

store::Event FromProto(const ::recsys::common::v1::Event& event);
void ToProto(const store::Event& event, ::recsys::common::v1::Event* out);

store::Behavior FromProto(const ::recsys::common::v1::Behavior& behavior);
void ToProto(const store::Behavior& behavior, ::recsys::common::v1::Behavior* out);

void ToProto(const std::string& user_id, const store::UserHistory& history, pb::UserHistory* out);
store::UserHistory FromProto(const pb::UserHistory& history);

store::Item FromProto(const pb::Item& item);
void ToProto(const store::Item& item, pb::Item* out);

store::TableSpec FromProto(const pb::EmbeddingTableSpec& spec);
void ToProto(const store::TableSpec& spec, pb::EmbeddingTableSpec* out);

store::NeighborQuery FromProto(const pb::NeighborQuery& query);
void ToProto(const store::NeighborQuery& query, pb::NeighborQuery* out);

}  // namespace recsys::feature_store
