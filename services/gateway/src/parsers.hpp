#pragma once
/// Private to the gateway's webhook parsers: safe reads of untrusted JSON and
/// the per-kind parsers that ParseWebhook dispatches to after the shared
/// shape checks. Every function here is total: no throw on any JSON value.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sb/common/result.hpp"
#include "sb/gateway/envelope.hpp"

namespace sb::gateway::parse {

using Json = nlohmann::json;

/// The member `key` of `obj`; nullptr when `obj` is no object or lacks it.
const Json* Find(const Json& obj, std::string_view key);
/// Like Find, but only when the member is an object (resp. an array).
const Json* FindObject(const Json& obj, std::string_view key);
const Json* FindArray(const Json& obj, std::string_view key);

/// A string member, made storable (see CleanText); nullopt when absent or of
/// another type.
std::optional<std::string> String(const Json& obj, std::string_view key);
/// An identifier: a non-empty string, or a non-negative integer written as
/// digits (some senders write ids as numbers); nullopt otherwise.
std::optional<std::string> Id(const Json& obj, std::string_view key);
/// A provider time member in milliseconds (see ProviderTimeMs).
std::optional<std::int64_t> TimeMs(const Json& obj, std::string_view key);
/// True only for a JSON `true`.
bool IsTrue(const Json& obj, std::string_view key);

/// PostgreSQL text cannot hold U+0000: replaces it with U+FFFD.
std::string CleanText(std::string text);
/// `value` as compact JSON with U+0000 replaced in every string and key, and
/// subtrees nested absurdly deep replaced by null. Invalid UTF-8 (only
/// possible in values built in memory) is replaced, never thrown.
std::string CompactJson(const Json& value);

/// A non-negative integer from an integer, an integral float or a string of
/// digits; nullopt otherwise or past 2^53.
std::optional<std::int64_t> Count(const Json& value);
/// A decimal price (number or numeric string) in the minor units of
/// `currency` (ISO 4217 exponent: JPY 0, BHD 3, most 2); nullopt when it is
/// no non-negative decimal or out of range.
std::optional<std::int64_t> MinorUnits(const Json& price, std::string_view currency);

/// Appends `ref` to `out.channels` unless it is already there.
void AddChannel(ParsedWebhook& out, const ChannelRef& ref);

/// Messenger and Instagram (Messenger Platform shape); `body` has passed the
/// shared shape checks.
Result<ParsedWebhook> ParseMessengerPlatform(ChannelKind kind, const Json& body);
/// WhatsApp Cloud API; `body` has passed the shared shape checks. Fails when
/// a `messages` change lacks value.metadata.phone_number_id.
Result<ParsedWebhook> ParseWhatsapp(const Json& body);

}  // namespace sb::gateway::parse
