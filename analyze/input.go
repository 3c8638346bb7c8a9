package analyze

import (
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// Input is one decoded capture, as decode/pipeline reads it: the analysis
// receives inputs and opens no file. The alias is kept for callers that
// name it here.
type Input = pipeline.Input

// Merge combines the events of several inputs, in input order.
func Merge(inputs []*Input) *decode.Events { return pipeline.Merge(inputs) }

// inputInfo is the report's description of one input.
func inputInfo(in *Input) InputInfo {
	info := InputInfo{
		Path:      in.Info.Path,
		Format:    in.Info.Format,
		Packets:   in.Info.Packets,
		LinkTypes: []string{},
		Errors:    []InputError{},
		Notes:     in.Info.Notes,
		First:     Timestamp(in.Info.First),
		Last:      Timestamp(in.Info.Last),
		Dropped:   in.Info.Dropped,
		Stopped:   in.Info.Stopped,
	}
	for _, lt := range in.Info.LinkTypes {
		info.LinkTypes = append(info.LinkTypes, capture.LinkTypeName(lt))
	}
	for _, e := range in.Info.Errors {
		info.Errors = append(info.Errors, InputError{Offset: e.Offset, Packet: e.Packet, Message: e.Msg})
	}
	return info
}
