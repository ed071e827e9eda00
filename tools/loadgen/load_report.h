// The load generator's report: a short text summary or one JSON object.
#ifndef RINGMTA_TOOLS_LOADGEN_LOAD_REPORT_H_
#define RINGMTA_TOOLS_LOADGEN_LOAD_REPORT_H_

#include <string>

#include "tools/loadgen/load_options.h"
#include "tools/loadgen/load_stats.h"

namespace ringmta::loadgen {

std::string TextReport(const LoadOptions& options, uint64_t size_bytes, const LoadStats& stats,
                       double elapsed_s);
std::string JsonReport(const LoadOptions& options, uint64_t size_bytes, const LoadStats& stats,
                       double elapsed_s);

}  // namespace ringmta::loadgen

#endif  // RINGMTA_TOOLS_LOADGEN_LOAD_REPORT_H_
