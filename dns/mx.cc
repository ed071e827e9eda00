#include "dns/mx.h"

#include <algorithm>

#include "dns/dns_limits.h"
#include "mta/base/check.h"

namespace ringmta::dns {

bool IsNullMx(const std::vector<MxRecord>& records) {
  return records.size() == 1 && records[0].exchange.empty();
}

absl::StatusOr<MxResult> OrderMxHosts(std::vector<MxRecord> records, MxRandom& random) {
  CHECK(!records.empty());
  if (IsNullMx(records)) {
    return absl::FailedPreconditionError("domain does not accept mail (null MX, RFC 7505)");
  }
  std::erase_if(records, [](const MxRecord& record) { return record.exchange.empty(); });
  if (records.empty()) {
    return absl::FailedPreconditionError("domain does not accept mail (only null MX records)");
  }
  // Best preference first; for a duplicated exchange the first copy (its
  // best preference) survives.
  std::sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.exchange != b.exchange ? a.exchange < b.exchange : a.preference < b.preference;
  });
  records.erase(std::unique(records.begin(), records.end(),
                            [](const MxRecord& a, const MxRecord& b) {
                              return a.exchange == b.exchange;
                            }),
                records.end());
  // Sorting by exchange first makes the shuffle's input independent of the
  // answer's order, so a seed reproduces one delivery order.
  std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.preference < b.preference;
  });
  // RFC 5321 §5.1: hosts of equal preference are tried in random order, to
  // spread the load over them.
  for (auto run = records.begin(); run != records.end();) {
    auto run_end = std::find_if(run, records.end(), [&](const MxRecord& record) {
      return record.preference != run->preference;
    });
    std::shuffle(run, run_end, random);
    run = run_end;
  }
  if (records.size() > limits::kMxHostsMax) records.resize(limits::kMxHostsMax);
  MxResult result;
  result.hosts.reserve(records.size());
  for (MxRecord& record : records) {
    result.hosts.push_back({std::move(record.exchange), record.preference});
  }
  return result;
}

}  // namespace ringmta::dns
