// One line of text per logical record for queue_dump --records: type, id and
// key fields, every string from the spool sanitised and cut (it came from
// peers). Not here: reading segments or deciding what is damage.
#ifndef RINGMTA_TOOLS_QUEUE_DUMP_RECORD_TEXT_H_
#define RINGMTA_TOOLS_QUEUE_DUMP_RECORD_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "queue/log_reader.h"
#include "queue/records.h"

namespace ringmta::queue {

std::string RecordLine(uint32_t segment, const LogRecord& record,
                       const absl::StatusOr<Record>& decoded);

}  // namespace ringmta::queue

#endif  // RINGMTA_TOOLS_QUEUE_DUMP_RECORD_TEXT_H_
