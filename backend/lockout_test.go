package backend

import (
	"testing"
	"time"
)

func TestLockoutDelay(t *testing.T) {
	p := LockoutPolicy{}.withDefaults()
	if p.FreeFailures != 3 || p.BaseDelay != time.Second || p.MaxDelay != 30*time.Second || p.MaxFailures != 10 || p.LockFor != 15*time.Minute {
		t.Fatalf("defaults: got %+v, want 3 free, 1s base, 30s max, lock after 10 for 15m", p)
	}
	tests := []struct {
		count int
		want  time.Duration
	}{
		{0, 0},
		{1, 0},
		{3, 0},
		{4, 1 * time.Second},
		{5, 2 * time.Second},
		{6, 4 * time.Second},
		{7, 8 * time.Second},
		{8, 16 * time.Second},
		{9, 30 * time.Second}, // 32 s, capped
		{10, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := p.delay(tt.count); got != tt.want {
			t.Errorf("delay(%d): got %v, want %v", tt.count, got, tt.want)
		}
	}
}

func TestLockoutDelayCustom(t *testing.T) {
	p := LockoutPolicy{FreeFailures: 1, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	tests := []struct {
		count int
		want  time.Duration
	}{
		{1, 0},
		{2, 100 * time.Millisecond},
		{3, 200 * time.Millisecond},
		{5, 800 * time.Millisecond},
		{6, time.Second},
		{60, time.Second},
	}
	for _, tt := range tests {
		if got := p.delay(tt.count); got != tt.want {
			t.Errorf("delay(%d): got %v, want %v", tt.count, got, tt.want)
		}
	}
}
