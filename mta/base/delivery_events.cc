#include "mta/base/delivery_events.h"

namespace ringmta {
namespace {

thread_local DeliveryEventSink* current_sink = nullptr;

}  // namespace

DeliveryEventSink* CurrentDeliveryEvents() { return current_sink; }
void SetCurrentDeliveryEvents(DeliveryEventSink* sink) { current_sink = sink; }

}  // namespace ringmta
