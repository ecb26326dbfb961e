#pragma once
/// Channel webhook parsers: one per kind, one entry point.
#include <nlohmann/json_fwd.hpp>

#include "sb/common/result.hpp"
#include "sb/gateway/envelope.hpp"

namespace sb::gateway {

/// Normalizes a parsed webhook body of the given kind. Fails (code
/// `invalid_shape`, message naming the JSON path) when `object` does not
/// match the kind, `entry` is not an array of objects with a string `id`, or
/// a WhatsApp `messages` change lacks `value.metadata.phone_number_id`.
/// Unknown fields and event kinds are ignored. Never throws.
Result<ParsedWebhook> ParseWebhook(ChannelKind kind, const nlohmann::json& body);

/// Meta sends times as numbers or numeric strings, in seconds or
/// milliseconds. Returns milliseconds since the epoch, or nullopt when the
/// value is no such time (range-checked before conversion).
std::optional<std::int64_t> ProviderTimeMs(const nlohmann::json& value);

}  // namespace sb::gateway
