package registrysim

import (
	"reflect"
	"regexp"
	"testing"
	"time"
)

func TestPersonByIDRange(t *testing.T) {
	tests := []struct {
		id     string
		wantOK bool
	}{
		{"1000000001", true},
		{"1000010000", true},
		{"1000004242", true},
		{"1000000000", false},
		{"0999999999", false},
		{"1000010001", false},
		{"9999999999", false},
		{"100000001", false},   // nine digits
		{"10000000001", false}, // eleven digits
		{"100000000a", false},
		{"+100000001", false},
		{"-100000001", false},
		{"abcdefghij", false},
		{"1000000001/", false},
		{"..", false},
		{"", false},
	}
	for _, tt := range tests {
		p, ok := PersonByID(tt.id)
		if ok != tt.wantOK {
			t.Errorf("PersonByID(%q): got ok %v, want %v", tt.id, ok, tt.wantOK)
			continue
		}
		if ok && p.ID != tt.id {
			t.Errorf("PersonByID(%q).ID: got %q, want %q", tt.id, p.ID, tt.id)
		}
		if !ok && !reflect.DeepEqual(p, Person{}) {
			t.Errorf("PersonByID(%q): got %+v, want the zero Person", tt.id, p)
		}
	}
}

func TestPersonByIDDeterministic(t *testing.T) {
	a, _ := PersonByID("1000000123")
	b, _ := PersonByID("1000000123")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same id twice: got %+v and %+v, want equal", a, b)
	}
	c, _ := PersonByID("1000000124")
	a.ID, c.ID = "", ""
	if reflect.DeepEqual(a, c) {
		t.Errorf("ids 1000000123 and 1000000124: got the same person apart from the id: %+v", a)
	}
}

// TestPersonsPinned pins one generated person, so that a change to the
// tables or the generator, which would change every person of the demo, is
// noticed.
func TestPersonsPinned(t *testing.T) {
	got, _ := PersonByID(LastPersonID)
	want := Person{
		ID: "1000010000", GivenName: "Mariia", FamilyName: "Polishchuk",
		BirthDate: "1939-01-19", Sex: "F", BirthPlace: "Kamianets-Podilskyi",
		Address: Address{
			Street: "vul. Kyivska 39, apt. 8", City: "Kamianets-Podilskyi", PostalCode: "32329",
		},
		MaritalStatus: "widowed", Children: []Child{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PersonByID(%s):\ngot  %+v\nwant %+v", LastPersonID, got, want)
	}
}

// TestPersonsPlausible checks every person of the registry.
func TestPersonsPlausible(t *testing.T) {
	postal := regexp.MustCompile(`^[0-9]{5}$`)
	statuses := map[string]int{}
	sexes := map[string]int{}
	withChildren := 0
	for i := range PersonCount {
		p := generatePerson(i)
		id := personID(i)
		birth, err := time.Parse(time.DateOnly, p.BirthDate)
		switch {
		case p.ID != id:
			t.Fatalf("person %d: got id %q, want %q", i, p.ID, id)
		case err != nil:
			t.Fatalf("%s: birth_date %q: %v", id, p.BirthDate, err)
		case birth.Year() < birthEpochYear || birth.Year() >= referenceYear:
			t.Fatalf("%s: got birth_date %s, want a year in %d … %d", id, p.BirthDate, birthEpochYear, referenceYear-1)
		case p.Sex != "F" && p.Sex != "M":
			t.Fatalf("%s: got sex %q, want F or M", id, p.Sex)
		case p.GivenName == "" || p.FamilyName == "" || p.BirthPlace == "":
			t.Fatalf("%s: got an empty name or birth place: %+v", id, p)
		case p.Address.Street == "" || p.Address.City == "" || !postal.MatchString(p.Address.PostalCode):
			t.Fatalf("%s: got address %+v, want street, city and a 5-digit postal code", id, p.Address)
		case p.Children == nil:
			t.Fatalf("%s: got nil children, want a non-nil slice", id)
		}
		age := ageAt(birth, time.Date(referenceYear, time.January, 1, 0, 0, 0, 0, time.UTC))
		if age < 18 && p.MaritalStatus != statusSingle {
			t.Errorf("%s: aged %d, got marital_status %q, want single", id, age, p.MaritalStatus)
		}
		if age < 20 && len(p.Children) > 0 {
			t.Errorf("%s: aged %d, got %d children, want none", id, age, len(p.Children))
		}
		for _, c := range p.Children {
			if _, ok := personIndex(c.ID); !ok || c.ID == id {
				t.Errorf("%s: got child %q, want another person of the registry", id, c.ID)
			}
		}
		if len(p.Children) > 0 {
			withChildren++
		}
		statuses[p.MaritalStatus]++
		sexes[p.Sex]++
	}
	for _, s := range maritalStatuses {
		if statuses[s] < PersonCount/50 {
			t.Errorf("marital_status %q: got %d persons, want at least %d", s, statuses[s], PersonCount/50)
		}
	}
	if len(statuses) != len(maritalStatuses) {
		t.Errorf("marital statuses: got %v, want only %v", statuses, maritalStatuses)
	}
	if sexes["F"] < PersonCount/3 || sexes["M"] < PersonCount/3 {
		t.Errorf("sexes: got %v, want both near half", sexes)
	}
	if withChildren < PersonCount/3 {
		t.Errorf("persons with children: got %d, want at least %d", withChildren, PersonCount/3)
	}
}

func TestAgeAt(t *testing.T) {
	at := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		birth string
		want  int
	}{
		{"2000-01-01", 25},
		{"2000-01-02", 24},
		{"1999-12-31", 25},
		{"2024-12-31", 0},
	}
	for _, tt := range tests {
		b, _ := time.Parse(time.DateOnly, tt.birth)
		if got := ageAt(b, at); got != tt.want {
			t.Errorf("ageAt(%s, %s): got %d, want %d", tt.birth, at.Format(time.DateOnly), got, tt.want)
		}
	}
}
