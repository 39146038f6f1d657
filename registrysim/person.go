package registrysim

import (
	"fmt"
	"strconv"
	"time"
)

// The civil registry holds exactly the persons FirstPersonID … LastPersonID.
const (
	// FirstPersonID is the smallest person id the civil registry knows.
	FirstPersonID = "1000000001"
	// LastPersonID is the largest person id the civil registry knows.
	LastPersonID = "1000010000"
	// PersonCount is the number of persons in the civil registry.
	PersonCount = 10000

	firstPersonNumber = 1000000001
	personIDLen       = len(FirstPersonID)
)

// Birth dates fall between 1 January of birthEpochYear and the last day
// before 1 January of referenceYear; ages (and so marital status and
// children) are computed on that 1 January, never at the current time, so a
// person does not change from one day to the next.
const (
	birthEpochYear = 1935
	referenceYear  = 2025
)

// Person is one record of the civil registry, as served by GET /persons/{id}.
type Person struct {
	ID            string  `json:"id"`
	GivenName     string  `json:"given_name"`
	FamilyName    string  `json:"family_name"`
	BirthDate     string  `json:"birth_date"` // YYYY-MM-DD
	Sex           string  `json:"sex"`        // "F" or "M"
	BirthPlace    string  `json:"birth_place"`
	Address       Address `json:"address"`
	MaritalStatus string  `json:"marital_status"` // single, married, divorced or widowed
	Children      []Child `json:"children"`       // never nil: [] when there are none
}

// Address is where a person lives.
type Address struct {
	Street     string `json:"street"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
}

// Child refers to another person of the registry.
type Child struct {
	ID string `json:"id"`
}

// PersonByID returns the person with the given 10-digit id and true, or the
// zero Person and false when the id is not one of FirstPersonID …
// LastPersonID. The same id always yields the same person: every field is
// derived from the id alone.
func PersonByID(id string) (Person, bool) {
	i, ok := personIndex(id)
	if !ok {
		return Person{}, false
	}
	return generatePerson(i), true
}

// personIndex maps a person id to its position 0 … PersonCount-1. Only the
// canonical spelling is accepted: exactly ten ASCII digits.
func personIndex(id string) (int, bool) {
	if len(id) != personIDLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	i := n - firstPersonNumber
	if i < 0 || i >= PersonCount {
		return 0, false
	}
	return i, true
}

// personID is the inverse of personIndex.
func personID(i int) string {
	return strconv.Itoa(firstPersonNumber + i)
}

// generatePerson builds the person at index i (0 … PersonCount-1).
func generatePerson(i int) Person {
	g := newSplitMix(uint64(firstPersonNumber + i))
	p := Person{ID: personID(i), Sex: "F", Children: []Child{}}
	if g.intn(2) == 1 {
		p.Sex = "M"
		p.GivenName = maleNames[g.intn(len(maleNames))]
	} else {
		p.GivenName = femaleNames[g.intn(len(femaleNames))]
	}
	p.FamilyName = familyNames[g.intn(len(familyNames))]

	epoch := time.Date(birthEpochYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	reference := time.Date(referenceYear, time.January, 1, 0, 0, 0, 0, time.UTC)
	birth := epoch.AddDate(0, 0, g.intn(int(reference.Sub(epoch)/(24*time.Hour))))
	p.BirthDate = birth.Format(time.DateOnly)
	p.BirthPlace = cities[g.intn(len(cities))].name

	home := cities[g.intn(len(cities))]
	street := fmt.Sprintf("vul. %s %d", streets[g.intn(len(streets))], 1+g.intn(150))
	if g.intn(3) > 0 {
		street += fmt.Sprintf(", apt. %d", 1+g.intn(200))
	}
	p.Address = Address{
		Street:     street,
		City:       home.name,
		PostalCode: fmt.Sprintf("%s%03d", home.postalPrefix, g.intn(1000)),
	}

	age := ageAt(birth, reference)
	p.MaritalStatus = maritalStatus(age, g.intn(100))
	if age >= 20 {
		for range childCount(g.intn(100)) {
			j := g.intn(PersonCount - 1)
			if j >= i { // skip the person itself
				j++
			}
			p.Children = append(p.Children, Child{ID: personID(j)})
		}
	}
	return p
}

// ageAt returns the age in whole years on day `at` of someone born on `birth`.
func ageAt(birth, at time.Time) int {
	age := at.Year() - birth.Year()
	if at.Month() < birth.Month() || at.Month() == birth.Month() && at.Day() < birth.Day() {
		age--
	}
	return age
}

// maritalStatus picks a status for the age from a roll in 0 … 99.
func maritalStatus(age, roll int) string {
	for _, band := range maritalWeights {
		if age < band.minAge {
			continue
		}
		for k, w := range band.weights {
			if roll < w {
				return maritalStatuses[k]
			}
			roll -= w
		}
		break
	}
	return statusSingle
}

// childCount turns a roll in 0 … 99 into 0 (35%), 1 (30%), 2 (25%) or 3 (10%).
func childCount(roll int) int {
	switch {
	case roll < 35:
		return 0
	case roll < 65:
		return 1
	case roll < 90:
		return 2
	default:
		return 3
	}
}

// splitMix is the SplitMix64 generator: tiny, fast, and fully specified, so
// the generated persons never change with the Go release.
type splitMix struct{ state uint64 }

func newSplitMix(seed uint64) *splitMix {
	return &splitMix{state: seed * 0x9e3779b97f4a7c15}
}

func (s *splitMix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n); n must be positive. The modulo bias is
// negligible for the small n used here.
func (s *splitMix) intn(n int) int {
	return int(s.next() % uint64(n))
}

// The tables below are the raw material of the synthetic persons: Ukrainian
// names and places in the national Latin transliteration. They are never
// modified; persons pick from them with a per-id pseudo-random generator, so
// reordering or extending a table changes every generated person.

// femaleNames are given names for persons with sex "F".
var femaleNames = [...]string{
	"Olena", "Oksana", "Iryna", "Nataliia", "Tetiana", "Yuliia", "Kateryna",
	"Anastasiia", "Mariia", "Sofiia", "Viktoriia", "Halyna", "Liudmyla",
	"Svitlana", "Olha", "Daryna", "Khrystyna", "Solomiia", "Zoriana", "Larysa",
	"Nadiia", "Valentyna", "Hanna", "Inna", "Alina", "Yaroslava", "Bohdana",
	"Vira", "Oleksandra", "Diana", "Uliana", "Marta",
}

// maleNames are given names for persons with sex "M".
var maleNames = [...]string{
	"Oleksandr", "Andrii", "Dmytro", "Serhii", "Mykola", "Volodymyr", "Ivan",
	"Vasyl", "Yurii", "Petro", "Taras", "Bohdan", "Oleh", "Ihor", "Maksym",
	"Mykhailo", "Viktor", "Yaroslav", "Stepan", "Pavlo", "Roman", "Vitalii",
	"Artem", "Denys", "Anatolii", "Hryhorii", "Ostap", "Yevhen", "Kostiantyn",
	"Ruslan", "Nazar", "Markiian",
}

// familyNames are surnames whose form is the same for women and men.
var familyNames = [...]string{
	"Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko",
	"Oliinyk", "Shevchuk", "Polishchuk", "Kovalchuk", "Boiko", "Tkachuk",
	"Melnyk", "Lysenko", "Marchenko", "Rudenko", "Savchenko", "Petrenko",
	"Moroz", "Pavlenko", "Klymenko", "Kuzmenko", "Levchenko", "Harasymiv",
	"Hnatiuk", "Ivanyshyn", "Fedorenko", "Yatsenko", "Hrytsenko",
	"Ponomarenko", "Zinchenko", "Didenko", "Karpenko", "Kushnir", "Vovk",
	"Kharchenko", "Sydorenko", "Romaniuk", "Honchar", "Dovzhenko", "Stasiuk",
}

// city is a settlement with the first two digits of its postal codes.
type city struct {
	name         string
	postalPrefix string
}

// cities serve both as birth places and as places of residence.
var cities = [...]city{
	{"Kyiv", "01"}, {"Lviv", "79"}, {"Kharkiv", "61"}, {"Odesa", "65"},
	{"Dnipro", "49"}, {"Zaporizhzhia", "69"}, {"Vinnytsia", "21"},
	{"Poltava", "36"}, {"Chernihiv", "14"}, {"Cherkasy", "18"},
	{"Zhytomyr", "10"}, {"Sumy", "40"}, {"Rivne", "33"}, {"Ternopil", "46"},
	{"Ivano-Frankivsk", "76"}, {"Lutsk", "43"}, {"Uzhhorod", "88"},
	{"Chernivtsi", "58"}, {"Khmelnytskyi", "29"}, {"Mykolaiv", "54"},
	{"Kherson", "73"}, {"Kropyvnytskyi", "25"}, {"Bila Tserkva", "09"},
	{"Kamianets-Podilskyi", "32"},
}

// streets are street names, used as "vul. <name> <house>".
var streets = [...]string{
	"Khreshchatyk", "Shevchenka", "Ivana Franka", "Lesi Ukrainky",
	"Hrushevskoho", "Sadova", "Tsentralna", "Nezalezhnosti", "Soborna",
	"Myru", "Shkilna", "Zelena", "Lisova", "Kyivska", "Vyshneva",
	"Bohdana Khmelnytskoho", "Hetmana Mazepy", "Stepana Bandery",
	"Mykhaila Kotsiubynskoho", "Vasylia Stusa", "Pershotravneva", "Richkova",
	"Poliova", "Kvitkova",
}

// Marital statuses, as the registry spells them.
const (
	statusSingle   = "single"
	statusMarried  = "married"
	statusDivorced = "divorced"
	statusWidowed  = "widowed"
)

// maritalWeights gives, for an age band, the weight in percent of each
// status. Bands are checked in order; the first whose minAge the person has
// reached applies.
var maritalWeights = [...]struct {
	minAge  int
	weights [4]int // single, married, divorced, widowed
}{
	{60, [4]int{8, 52, 12, 28}},
	{25, [4]int{25, 55, 15, 5}},
	{18, [4]int{80, 18, 2, 0}},
	{0, [4]int{100, 0, 0, 0}},
}

// maritalStatuses is indexed like maritalWeights' weights.
var maritalStatuses = [...]string{statusSingle, statusMarried, statusDivorced, statusWidowed}
