package main

import (
	"reflect"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// storedTTL reads the TTL pstoremem (v0.48.0) holds for an addr, expired or
// not, from its private state: go offers no accessor, and an expired but
// uncollected entry's TTL is what makes AddAddrs differ from peerscope.
func storedTTL(ps peerstore.Peerstore, p peer.ID, a ma.Multiaddr) (time.Duration, bool) {
	byPeer := reflect.ValueOf(ps).Elem().FieldByName("memoryAddrBook").Elem().FieldByName("addrs").FieldByName("Addrs")
	m := byPeer.MapIndex(reflect.ValueOf(p))
	if !m.IsValid() {
		return 0, false
	}
	e := m.MapIndex(reflect.ValueOf(string(a.Bytes())))
	if !e.IsValid() {
		return 0, false
	}
	return time.Duration(e.Elem().FieldByName("TTL").Int()), true
}

// staleTTLs lists the addrs an extend-only add (AddAddrs, ConsumePeerRecord)
// at ttl will revive with an older, larger TTL: expired, not yet collected,
// and stored at a TTL above ttl. peerscope stores them afresh at ttl.
func staleTTLs(ps peerstore.Peerstore, p peer.ID, addrs []ma.Multiaddr, ttl time.Duration) []string {
	if ttl <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, a := range ps.Addrs(p) {
		live[a.String()] = true
	}
	var out []string
	for _, a := range addrs {
		bare, id := peer.SplitAddr(a)
		if bare == nil || (id != "" && id != p) || live[bare.String()] {
			continue
		}
		if old, ok := storedTTL(ps, p, bare); ok && old > ttl {
			out = append(out, bare.String())
		}
	}
	return out
}
