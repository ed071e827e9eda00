// MetricsExposition: sums every shard's ShardStats at read time and renders
// them in the Prometheus text exposition format 0.0.4 (HELP and TYPE lines,
// cumulative histogram buckets in seconds). Reads only relaxed atomics the
// shards write, so a scrape never stops a shard. Per-destination series
// are bounded: at most `destinations_shown` route keys get their own label,
// the rest are summed as destination="other". Which keys are shown is
// sticky: once a key has been shown it stays, so every series is a
// monotonic counter; the slots fill with the busiest keys at the scrape
// that finds them. Not here: HTTP (http_metrics_server.h).
#ifndef RINGMTA_MTA_ADMIN_METRICS_EXPOSITION_H_
#define RINGMTA_MTA_ADMIN_METRICS_EXPOSITION_H_

#include <string>
#include <string_view>
#include <vector>

#include "mta/base/shard_stats.h"

namespace ringmta::admin {

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

class MetricsExposition {
 public:
  MetricsExposition(std::vector<const ShardStats*> shards, int destinations_shown);

  // Not thread-safe (it remembers the destinations it has shown): one
  // scraper thread calls it.
  std::string Render();

 private:
  void RenderDestinations(std::string* out);

  std::vector<const ShardStats*> shards_;
  size_t destinations_shown_max_;
  std::vector<std::string> shown_;  // sorted
};

// A label value escaped per the exposition format (\\, \", \n); bytes that
// are not printable ASCII become '?' so the output is always valid UTF-8.
std::string EscapeLabelValue(std::string_view value);

}  // namespace ringmta::admin

#endif  // RINGMTA_MTA_ADMIN_METRICS_EXPOSITION_H_
