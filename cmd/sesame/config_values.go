package main

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ByteSize is a number of bytes, written as 1048576, "512MiB" or "10GB".
type ByteSize int64

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseByteSize reads a size such as "512MiB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	mul, ok := byteUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || f*float64(mul) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size (use bytes, or units such as 512MiB or 10GB)", s)
	}
	return ByteSize(f * float64(mul)), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// Retention is how long records are kept, written as a Go duration
// ("9600h") or in days or weeks ("400d", "52w"); 0 (or empty) keeps them
// forever.
type Retention time.Duration

// ParseRetention reads a retention such as "400d".
func ParseRetention(s string) (Retention, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := parseLifetime(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a retention (use a duration such as 400d or 9600h, or 0 to keep forever)", s)
	}
	return Retention(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Retention) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a retention is a single value such as 400d", n.Line)
	}
	v, err := ParseRetention(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*r = v
	return nil
}

func setValue(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case string:
		v.SetString(s)
	case time.Duration:
		return setInt(v, s, time.ParseDuration)
	case ByteSize:
		return setInt(v, s, ParseByteSize)
	case Retention:
		return setInt(v, s, ParseRetention)
	case []string:
		var list []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		v.Set(reflect.ValueOf(list))
	case bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// setInt parses s and stores it in v, an integer-kinded field.
func setInt[T ~int64](v reflect.Value, s string, parse func(string) (T, error)) error {
	n, err := parse(s)
	if err != nil {
		return err
	}
	v.SetInt(int64(n))
	return nil
}

// notConfig lists SESAME_ variables that are not configuration keys.
var notConfig = map[string]bool{"SESAME_TOKEN": true}
