package minimise

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var person = `{
  "id": "1000000001",
  "given_name": "Olena",
  "family_name": "Kovalenko",
  "birth_date": "1961-03-14",
  "sex": "F",
  "birth_place": "Lviv",
  "address": {"street": "vul. Shevchenka 12, apt. 7", "city": "Kyiv", "postal_code": "01001"},
  "marital_status": "married",
  "children": [{"id": "1000000420"}, {"id": "1000007771", "name": "x"}]
}`

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		in    string
		want  string
	}{
		{"benefits fields", []string{"id", "birth_date", "marital_status"}, person,
			`{"id":"1000000001","birth_date":"1961-03-14","marital_status":"married"}`},
		{"original order, not the paths' order", []string{"marital_status", "id"}, person,
			`{"id":"1000000001","marital_status":"married"}`},
		{"nested field", []string{"id", "address.city"}, person,
			`{"id":"1000000001","address":{"city":"Kyiv"}}`},
		{"whole object kept", []string{"address"}, person,
			`{"address":{"street":"vul. Shevchenka 12, apt. 7","city":"Kyiv","postal_code":"01001"}}`},
		{"whole object wins over its field", []string{"address.city", "address"}, person,
			`{"address":{"street":"vul. Shevchenka 12, apt. 7","city":"Kyiv","postal_code":"01001"}}`},
		{"each element of an array", []string{"children[].id"}, person,
			`{"children":[{"id":"1000000420"},{"id":"1000007771"}]}`},
		{"whole array", []string{"children"}, person,
			`{"children":[{"id":"1000000420"},{"id":"1000007771","name":"x"}]}`},
		{"whole array with []", []string{"children[]"}, person,
			`{"children":[{"id":"1000000420"},{"id":"1000007771","name":"x"}]}`},
		{"missing fields", []string{"id", "nickname", "address.country", "pets[].name"}, person,
			`{"id":"1000000001","address":{}}`},
		{"nothing granted present", []string{"nickname"}, person, `{}`},
		{"empty object", []string{"id"}, `{}`, `{}`},
		{"empty array member", []string{"children[].id"}, `{"children":[]}`, `{"children":[]}`},
		{"top-level array of persons", []string{"id", "address.city"},
			`[{"id":"1","given_name":"A","address":{"city":"Kyiv","street":"s"}}, {"id":"2","given_name":"B"}]`,
			`[{"id":"1","address":{"city":"Kyiv"}},{"id":"2"}]`},
		{"top-level array: scalars removed, nested arrays filtered", []string{"id"},
			`[1, {"id":1,"x":2}, "s", [{"id":2,"y":3}, null], true]`, `[{"id":1},[{"id":2}]]`},
		{"top-level empty array", []string{"id"}, ` [ ] `, `[]`},
		{"top-level scalar has no fields", []string{"id"}, `"1000000001"`, `null`},
		{"top-level number", []string{"id"}, ` 42 `, `null`},
		{"object path on a scalar removes it", []string{"address.city"}, `{"address":"Kyiv, vul. X"}`, `{}`},
		{"object path on an array removes it", []string{"address.city"}, `{"address":[{"city":"Kyiv"}]}`, `{}`},
		{"array path on an object removes it", []string{"children[].id"}, `{"children":{"id":"1"}}`, `{}`},
		{"array path on a scalar removes it", []string{"children[]"}, `{"children":"1,2"}`, `{}`},
		{"array elements of the wrong shape removed", []string{"children[].id"},
			`{"children":[1,{"id":"a","n":1},"x",null,[{"id":"b"}],{"n":2},{"id":"c"}]}`,
			`{"children":[{"id":"a"},{},{"id":"c"}]}`},
		{"nested arrays", []string{"m[][].x"}, `{"m":[[{"x":1,"y":2}],[],3,[{"y":1},4]]}`, `{"m":[[{"x":1}],[],[{}]]}`},
		{"nested arrays whole", []string{"m[][]"}, `{"m":[[1,[2]],3,[]]}`, `{"m":[[1,[2]],[]]}`},
		{"array in array path", []string{"a[].b[].c"}, `{"a":[{"b":[{"c":1,"d":2}],"e":3}]}`, `{"a":[{"b":[{"c":1}]}]}`},
		{"kept values compacted", []string{"a"}, "{ \"a\" :\t[ 1 ,\r\n{ \"b\" : [ true , false , null ] } , \"x y\" ] , \"z\" : 1 }",
			`{"a":[1,{"b":[true,false,null]},"x y"]}`},
		{"numbers", []string{"n"}, `{"n":[0,-0,1.5,-12.25e+10,1E-7,123456789012345678901234567890]}`,
			`{"n":[0,-0,1.5,-12.25e+10,1E-7,123456789012345678901234567890]}`},
		{"escapes in values copied as they are", []string{"s"}, `{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00","t":"\""}`,
			`{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"}`},
		{"unicode values", []string{"прізвище"}, `{"ім'я":"Олена","прізвище":"Коваленко 😀"}`, `{"прізвище":"Коваленко 😀"}`},
		{"escaped key matches its decoded name", []string{"birth_date"}, `{"birth\u005fdate":"1961-03-14","id":"1"}`,
			`{"birth\u005fdate":"1961-03-14"}`},
		{"escaped unicode key", []string{"прізвище"}, `{"\u043f\u0440\u0456\u0437\u0432\u0438\u0449\u0435":"K","x":1}`,
			`{"\u043f\u0440\u0456\u0437\u0432\u0438\u0449\u0435":"K"}`},
		{"surrogate pair key", []string{"😀"}, `{"\ud83d\ude00":1,"\ud83d":2}`, `{"\ud83d\ude00":1}`},
		{"key that only looks like a granted one", []string{"id"}, `{"id\u0000":1,"\"id":2,"ID":3,"id ":4}`, `{}`},
		{"key with a dot is not a path", []string{"address.city"}, `{"address.city":"Kyiv"}`, `{}`},
		{"duplicate keys filtered alike", []string{"address.city", "id"},
			`{"id":1,"address":{"city":"A","street":"s"},"id":2,"address":{"city":"B","zip":"z"}}`,
			`{"id":1,"address":{"city":"A"},"id":2,"address":{"city":"B"}}`},
		{"granted field after dropped ones", []string{"z"}, `{"a":{"b":[1,{"c":"}"}]},"b":"{","z":true}`, `{"z":true}`},
		{"granted null", []string{"a.b"}, `{"a":null}`, `{}`},
		{"whole null kept", []string{"a"}, `{"a":null}`, `{"a":null}`},
		{"deep whole value", []string{"a.b"}, `{"a":{"b":{"c":{"d":[{"e":"f"}]}},"x":1}}`, `{"a":{"b":{"c":{"d":[{"e":"f"}]}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Apply([]byte(tt.in))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Apply(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("Apply result is not JSON: %s", got)
			}
		})
	}
}

// TestApplyInvalid checks that documents that are not JSON are refused,
// wherever the fault is (in a kept or a removed part).
func TestApplyInvalid(t *testing.T) {
	f, err := Compile([]string{"id", "address.city"})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		``, ` `, `{`, `}`, `{"id":1`, `{"id":1,}`, `{"id" 1}`, `{id:1}`, `{'id':1}`, `{"id":1}}`, `{"id":1} x`,
		`{"id":1}{}`, `{"x":[1,]}`, `{"x":[1 2]}`, `{"x":01}`, `{"x":1.}`, `{"x":.5}`, `{"x":1e}`, `{"x":+1}`,
		`{"x":-}`, `{"x":0x10}`, `{"x":NaN}`, `{"x":tru}`, `{"x":nul}`, `{"x":True}`, `{"x":"a` + "\n" + `b"}`,
		`{"x":"\x"}`, `{"x":"\u12"}`, `{"x":"\u12G4"}`, `{"x":"a}`, "{\"x\":\"\xff\"}", "{\"id\":\"\xc3\"}",
		"{\"x\xff\":1}", "\xef\xbb\xbf{}", `{"address":{"city":"Kyiv",}}`, `{"address":{"city" "Kyiv"}}`,
		`[1,]`, `[{"id":1}`, `[{"id":1},]`, `["a" "b"]`, `nul`, `"abc`, `{"id":1,"x":{"a":[}}`, "{\"id\":1}\x00",
		`{"x":"\ud800\"}`, `{"x":1}` + "\u00a0",
	} {
		out, err := f.Apply([]byte(in))
		if err == nil || !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("Apply(%q) = %q, %v; want ErrInvalidJSON", in, out, err)
		}
		if out != nil {
			t.Errorf("Apply(%q) returned a body with its error: %q", in, out)
		}
	}
}

func TestApplyDepth(t *testing.T) {
	f, err := Compile([]string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	ok := `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	if _, err := f.Apply([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	deep := `{"b":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	if _, err := f.Apply([]byte(deep)); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("depth %d: got %v, want ErrInvalidJSON", MaxDepth+1, err)
	}
}

// TestApplyDoesNotAlias checks that the result owns its bytes: the gateway
// returns the original body's buffer to a pool.
func TestApplyDoesNotAlias(t *testing.T) {
	f, _ := Compile([]string{"a"})
	in := []byte(`{"a":"value"}`)
	out, err := f.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	copy(in, bytes.Repeat([]byte{'x'}, len(in)))
	if string(out) != `{"a":"value"}` {
		t.Errorf("result changed with its input: %s", out)
	}
}

func TestUnescape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`abc`, "abc"},
		{`a\"b\\c\/d\b\f\n\r\t`, "a\"b\\c/d\b\f\n\r\t"},
		{`\u00e9\u0416`, "éЖ"},
		{`\ud83d\ude00`, "😀"},
		{`\ud83d`, "\ufffd"},
		{`\ude00\ud83d`, "\ufffd\ufffd"},
		{`\ud83dx`, "\ufffdx"},
		{`\ud83d\u0041`, "\ufffdA"},
		{`\u0000`, "\x00"},
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &want); err != nil || want != tt.want {
			t.Fatalf("test case %q: encoding/json says %q (%v)", tt.in, want, err)
		}
		if got := string(unescape(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzApply checks the scanner against encoding/json: the same documents
// are valid (RFC 8259 needs UTF-8, which json.Valid does not check), a
// filter keeping a field yields valid JSON holding exactly what
// encoding/json finds there, and nothing is returned with an error.
func FuzzApply(f *testing.F) {
	for _, s := range []string{person, `[{"id":1},2]`, `{"id":"\u00e9","x":[1,{"id":2}]}`, `1`, `{"a":}`, `"\ud800"`,
		`{"id":{"id":[]},"id":1e5}`, "{\"id\":\"\xff\"}", ` [ ] `} {
		f.Add([]byte(s))
	}
	filter, err := Compile([]string{"id"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := filter.Apply(in)
		want := json.Valid(in) && utf8.Valid(in) && !bytes.HasPrefix(in, []byte("\xef\xbb\xbf"))
		if (err == nil) != want {
			t.Fatalf("Apply(%q): error %v, encoding/json says valid=%v", in, err, want)
		}
		if err != nil {
			if out != nil {
				t.Fatalf("Apply(%q) returned a body with its error", in)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Apply(%q) = %q, not JSON", in, out)
		}
		var whole, kept any
		_ = json.Unmarshal(in, &whole)
		_ = json.Unmarshal(out, &kept)
		if m, ok := whole.(map[string]any); ok {
			km := kept.(map[string]any)
			if len(km) > 1 {
				t.Fatalf("Apply(%q) = %q, more than id", in, out)
			}
			if v, ok := m["id"]; ok {
				a, _ := json.Marshal(v)
				b, _ := json.Marshal(km["id"])
				if !bytes.Equal(a, b) {
					t.Fatalf("Apply(%q) = %q: id %s, want %s", in, out, b, a)
				}
			}
		}
	})
}
