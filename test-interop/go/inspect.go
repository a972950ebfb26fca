package main

import (
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"
)

// go-libp2p offers no accessor for what pstoremem (v0.52.0) holds beyond its
// public reads: an addr's stored TTL and expiry (expired entries included,
// until GC), and whether a peer has metadata or a latency. These helpers read
// that private state with reflection, read-only, for the Go program's reports.

// addrEntry is one stored addr of a peer, expired or not.
type addrEntry struct {
	addr   ma.Multiaddr
	ttl    time.Duration
	expiry time.Time
	// inHeap: in pstoremem's expiry heap, which is all its GC looks at (a
	// connected addr lowered later never enters it: reference §9.1).
	inHeap bool
}

func field(v reflect.Value, name string) reflect.Value {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	return v.FieldByName(name)
}

// storedAddrs lists every addr entry pstoremem holds for p.
func storedAddrs(ps peerstore.Peerstore, p peer.ID) []addrEntry {
	byPeer := field(field(reflect.ValueOf(ps), "memoryAddrBook"), "addrs").FieldByName("Addrs")
	m := byPeer.MapIndex(reflect.ValueOf(p))
	if !m.IsValid() {
		return nil
	}
	out := make([]addrEntry, 0, m.Len())
	iter := m.MapRange()
	for iter.Next() {
		e := iter.Value().Elem()
		raw := []byte(iter.Key().String())
		a, err := ma.NewMultiaddrBytes(raw)
		if err != nil {
			continue
		}
		out = append(out, addrEntry{
			addr:   a,
			ttl:    time.Duration(e.FieldByName("TTL").Int()),
			expiry: timeOf(e.FieldByName("Expiry")),
			inHeap: e.FieldByName("heapIndex").Int() != -1,
		})
	}
	return out
}

// timeOf reads a time.Time reached through unexported fields (where
// Interface() is refused) through a pointer to the same memory.
func timeOf(v reflect.Value) time.Time {
	return reflect.NewAt(v.Type(), v.Addr().UnsafePointer()).Elem().Interface().(time.Time)
}

// storedTTL is the TTL pstoremem holds for an addr of p, expired or not.
func storedTTL(ps peerstore.Peerstore, p peer.ID, a ma.Multiaddr) (time.Duration, bool) {
	for _, e := range storedAddrs(ps, p) {
		if e.addr.Equal(a) {
			return e.ttl, true
		}
	}
	return 0, false
}

// expiredAddrs lists p's stored addrs that have expired at now but are not collected.
func expiredAddrs(ps peerstore.Peerstore, p peer.ID, now time.Time) []string {
	out := []string{}
	for _, e := range storedAddrs(ps, p) {
		if !now.Before(e.expiry) {
			out = append(out, e.addr.String())
		}
	}
	slices.Sort(out)
	return out
}

// hasMetadata and hasLatency read pstoremem's private maps.
func hasMetadata(ps peerstore.Peerstore, p peer.ID) bool {
	m := field(field(reflect.ValueOf(ps), "memoryPeerMetadata"), "ds").MapIndex(reflect.ValueOf(p))
	return m.IsValid() && m.Len() > 0
}

func hasLatency(ps peerstore.Peerstore, p peer.ID) bool {
	return field(field(reflect.ValueOf(ps), "Metrics"), "latmap").MapIndex(reflect.ValueOf(p)).IsValid()
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

// addrState is p's stored addrs (expired ones included) as comparable text:
// "<addr> <ttl ns or connected/permanent> <expiry ns since start, or never>", sorted.
func addrState(ps peerstore.Peerstore, p peer.ID, start time.Time) []string {
	out := []string{}
	for _, e := range storedAddrs(ps, p) {
		out = append(out, e.addr.String()+" "+ttlText(e.ttl)+" "+expiryText(e, start))
	}
	slices.Sort(out)
	return out
}

func ttlText(ttl time.Duration) string {
	switch ttl {
	case peerstore.PermanentAddrTTL:
		return "permanent"
	case peerstore.ConnectedAddrTTL:
		return "connected"
	}
	return strconv.FormatInt(int64(ttl), 10)
}

func expiryText(e addrEntry, start time.Time) string {
	if e.ttl >= peerstore.ConnectedAddrTTL {
		return "never"
	}
	return strconv.FormatInt(e.expiry.Sub(start).Nanoseconds(), 10)
}
