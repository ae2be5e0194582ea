package gqltest

// TrackEvents is the trackEvents mutation with every field of its payload,
// its inputs in $in; TrackEventsPayload decodes its data.
const TrackEvents = `mutation($in: [TrackEventInput!]!) { trackEvents(inputs: $in) {
	accepted inserted duplicates rejected results { index id duplicate error { code field message } } } }`

// TrackEventsPayload is the data of TrackEvents. Error.Field is "" when
// the error names no field (an event the store refused).
type TrackEventsPayload struct {
	TrackEvents struct {
		Accepted, Inserted, Duplicates, Rejected int
		Results                                  []struct {
			Index     int
			ID        *string
			Duplicate bool
			Error     *struct{ Code, Field, Message string }
		}
	}
}
