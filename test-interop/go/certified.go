package main

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/record"
)

// consumePeerRecord opens a marshalled envelope as go's identify/peer-exchange
// callers do and hands it to the certified addr book.
func (r *traceRun) consumePeerRecord(op peerstoreOp) (any, error) {
	raw, err := base64.StdEncoding.DecodeString(op.Envelope)
	if err != nil {
		return nil, err
	}
	ttl, err := parseTTL(op.TTL)
	if err != nil {
		return nil, err
	}
	env, untyped, err := record.ConsumeEnvelope(raw, peer.PeerRecordEnvelopeDomain)
	if err != nil {
		return nil, err
	}
	cab, ok := peerstore.GetCertifiedAddrBook(r.ps)
	if !ok {
		return nil, fmt.Errorf("peerstore is not a CertifiedAddrBook")
	}
	rec, _ := untyped.(*peer.PeerRecord)
	var prev, stale []string
	if rec != nil {
		prev = recordAddrs(cab.GetPeerRecord(rec.PeerID))
		stale = staleTTLs(r.ps, rec.PeerID, rec.Addrs, ttl)
	}
	accepted, err := cab.ConsumePeerRecord(env, ttl)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"accepted": accepted}
	if accepted && len(stale) > 0 {
		res["staleTtl"] = stale
	}
	if accepted && rec != nil {
		// go master (#3487) would drop the previous record's addrs that the new
		// one lacks; v0.48.0 keeps them. Report the live ones so the comparator
		// can stop where the two behaviours part (it cannot see TTLs, so it also
		// lists connected ones, which #3487 keeps: reporting more only stops the
		// comparison earlier).
		next := map[string]bool{}
		for _, a := range rec.Addrs {
			bare, _ := peer.SplitAddr(a)
			if bare != nil {
				next[bare.String()] = true
			}
		}
		live := map[string]bool{}
		for _, a := range r.ps.Addrs(rec.PeerID) {
			live[a.String()] = true
		}
		drops := []string{}
		for _, a := range prev {
			if !next[a] && live[a] {
				drops = append(drops, a)
			}
		}
		if len(drops) > 0 {
			res["headDrops"] = drops
		}
	}
	return res, nil
}

// recordAddrs lists the addrs of an envelope's PeerRecord, sorted; nil for no envelope.
func recordAddrs(env *record.Envelope) []string {
	if env == nil {
		return nil
	}
	untyped, err := env.Record()
	if err != nil {
		return nil
	}
	rec, ok := untyped.(*peer.PeerRecord)
	if !ok {
		return nil
	}
	out := []string{}
	for _, a := range rec.Addrs {
		if bare, _ := peer.SplitAddr(a); bare != nil {
			out = append(out, bare.String())
		}
	}
	slices.Sort(out)
	return out
}

// peerRecord reports GetPeerRecord: null, or the record's seq (a decimal
// string: seqs are uint64) and the envelope as go marshals it.
func (r *traceRun) peerRecord(p peer.ID) (any, error) {
	cab, _ := peerstore.GetCertifiedAddrBook(r.ps)
	env := cab.GetPeerRecord(p)
	if env == nil {
		return nil, nil
	}
	untyped, err := env.Record()
	if err != nil {
		return nil, err
	}
	rec, ok := untyped.(*peer.PeerRecord)
	if !ok {
		return nil, fmt.Errorf("stored envelope is not a PeerRecord")
	}
	raw, err := env.Marshal()
	if err != nil {
		return nil, err
	}
	return map[string]any{"seq": strconv.FormatUint(rec.Seq, 10), "envelope": b64(raw)}, nil
}
