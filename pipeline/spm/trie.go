package spm

import "sort"

// trie is a read-only double-array trie over piece strings: the child of
// state s by byte c is base[s]+c when check there names s.
type trie struct {
	units []trieUnit
}

// trieUnit keeps a state's fields together so one step touches one cache line.
type trieUnit struct {
	base  int32
	check int32 // parent state + 1; 0 marks a free slot
	value int32 // piece id ending at the state, or -1
}

type trieKey struct {
	key   string
	value int32
}

// newTrie builds the trie breadth first from sorted keys, placing each
// state's children at the lowest base where all of them fit.
func newTrie(keys []trieKey) *trie {
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	t := &trie{units: []trieUnit{{check: 1, value: -1}}}
	type pending struct {
		state  int32
		depth  int
		lo, hi int // keys[lo:hi] share the state's prefix
	}
	queue := []pending{{0, 0, 0, len(keys)}}
	// free[i] leads, with path compression, to the lowest free slot >= i.
	free := []int32{1, 1}
	findFree := func(i int32) int32 {
		for int(i) < len(free) && free[i] != i {
			if int(free[i]) < len(free) {
				free[i] = free[free[i]]
			}
			i = free[i]
		}
		return i
	}
	var labels []int32
	var ranges [][2]int
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		lo := p.lo
		if lo < p.hi && len(keys[lo].key) == p.depth {
			t.units[p.state].value = keys[lo].value
			lo++
		}
		labels, ranges = labels[:0], ranges[:0]
		for i := lo; i < p.hi; {
			c := keys[i].key[p.depth]
			j := i + 1
			for j < p.hi && keys[j].key[p.depth] == c {
				j++
			}
			labels = append(labels, int32(c))
			ranges = append(ranges, [2]int{i, j})
			i = j
		}
		if len(labels) == 0 {
			continue
		}
		slot := findFree(1)
		b := slot - labels[0]
		for b < 1 || !t.fits(b, labels) {
			slot = findFree(slot + 1)
			b = slot - labels[0]
		}
		t.units[p.state].base = b
		for k, c := range labels {
			s := b + c
			t.grow(int(s) + 1)
			for len(free) <= int(s)+1 {
				free = append(free, int32(len(free)))
			}
			t.units[s].check = p.state + 1
			free[s] = s + 1
			queue = append(queue, pending{s, p.depth + 1, ranges[k][0], ranges[k][1]})
		}
	}
	return t
}

func (t *trie) fits(b int32, labels []int32) bool {
	for _, c := range labels {
		if s := int(b + c); s < len(t.units) && t.units[s].check != 0 {
			return false
		}
	}
	return true
}

func (t *trie) grow(n int) {
	for len(t.units) < n {
		t.units = append(t.units, trieUnit{value: -1})
	}
}

// child returns the state reached from s by byte c, or -1.
func (t *trie) child(s int32, c byte) int32 {
	n := t.units[s].base + int32(c)
	if uint(n) < uint(len(t.units)) && t.units[n].check == s+1 {
		return n
	}
	return -1
}

// longestPrefix returns the length of the longest key that is a prefix of s.
func (t *trie) longestPrefix(s string) int {
	best, state := 0, int32(0)
	for i := 0; i < len(s); i++ {
		if state = t.child(state, s[i]); state < 0 {
			break
		}
		if t.units[state].value >= 0 {
			best = i + 1
		}
	}
	return best
}
