package main

import (
	"encoding/base64"
	"fmt"
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
	var stale []string
	if rec != nil {
		stale = staleTTLs(r.ps, rec.PeerID, rec.Addrs, ttl)
	}
	var accepted bool
	consume := func() { accepted, err = cab.ConsumePeerRecord(env, ttl) }
	var tie []string
	if rec != nil {
		tie = r.watchEvictions(rec.PeerID, rec.Addrs, ttl, consume)
	} else {
		consume()
	}
	if err != nil {
		return nil, err
	}
	res := map[string]any{"accepted": accepted}
	if accepted && len(stale) > 0 {
		res["staleTtl"] = stale
	}
	if tie != nil {
		res["capTie"] = tie
	}
	return res, nil
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
