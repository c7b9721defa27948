package inventory

import "fmt"

func (v *validator) validateTenants(inv *Inventory) {
	names := map[string]int{}
	domains := map[string]int{}
	ids := map[string]int{}
	slots := map[int]int{}
	containers := map[string]bool{inv.Balancers.Outer.Name: true}
	for _, b := range inv.Balancers.Inner {
		containers[b] = true
	}
	maxSlots := MaxSlots(inv.Prefix())

	for i := range inv.Tenants {
		t := &inv.Tenants[i]
		p := fmt.Sprintf("tenants[%d]", i)
		if err := ValidTenantName(t.Name); err != nil {
			v.at(p+".name", "%v", err)
		} else if j, ok := names[t.Name]; ok {
			v.at(p+".name", "duplicate tenant name %q (first at line %d)", t.Name, v.line(fmt.Sprintf("tenants[%d].name", j)))
		} else {
			names[t.Name] = i
			for _, r := range Roles {
				if containers[t.ContainerName(r)] {
					v.at(p+".name", "container %q would collide with a balancer", t.ContainerName(r))
				}
			}
		}
		if err := ValidDomain(t.Domain); err != nil {
			v.at(p+".domain", "%v", err)
		} else if j, ok := domains[t.Domain]; ok {
			v.at(p+".domain", "duplicate domain %q (first at line %d)", t.Domain, v.line(fmt.Sprintf("tenants[%d].domain", j)))
		} else {
			domains[t.Domain] = i
		}
		if len(t.Customer) > 200 || !printable(t.Customer) {
			v.at(p+".customer", "must be printable text of at most 200 characters")
		}
		if t.ID != "" {
			if !tenantIDRe.MatchString(t.ID) {
				v.at(p+".id", "%q: want 1-64 letters, digits, '_' or '-'", t.ID)
			} else if j, ok := ids[t.ID]; ok {
				v.at(p+".id", "duplicate tenant id %q (first at line %d)", t.ID, v.line(fmt.Sprintf("tenants[%d].id", j)))
			} else {
				ids[t.ID] = i
			}
		}
		if t.Slot != nil {
			s := *t.Slot
			if s < 0 || s >= maxSlots {
				v.at(p+".slot", "%d is outside 0..%d, the slots subnet %s has room for", s, maxSlots-1, inv.Prefix().Masked())
			} else if j, ok := slots[s]; ok {
				v.at(p+".slot", "slot %d is already taken by tenant %q", s, inv.Tenants[j].Name)
			} else {
				slots[s] = i
			}
		}
		if t.Target != "" && !objectNameRe.MatchString(t.Target) {
			v.at(p+".target", "%q is not a valid LXD cluster member name", t.Target)
		}
		if t.Cert != "" && !printable(t.Cert) {
			v.at(p+".cert", "contains control characters")
		}
		v.validateLimits(p+".limits", t.Limits)
	}
	if len(inv.Tenants) > maxSlots {
		v.at("lxd.network.ipv4", "subnet %s is too small: it has addresses for %d tenants, the inventory has %d", inv.Prefix().Masked(), maxSlots, len(inv.Tenants))
		return
	}
	assignSlots(inv, slots)
}

// assignSlots gives every tenant without a slot the lowest free one, in file order.
func assignSlots(inv *Inventory, taken map[int]int) {
	next := 0
	for i := range inv.Tenants {
		if inv.Tenants[i].Slot != nil {
			continue
		}
		for {
			if _, ok := taken[next]; !ok {
				break
			}
			next++
		}
		s := next
		inv.Tenants[i].Slot = &s
		inv.Tenants[i].slotAssigned = true
		taken[s] = i
	}
}

// FreeSlot returns the lowest slot no tenant holds.
func (inv *Inventory) FreeSlot() int {
	taken := map[int]bool{}
	for _, t := range inv.Tenants {
		if t.Slot != nil {
			taken[*t.Slot] = true
		}
	}
	s := 0
	for taken[s] {
		s++
	}
	return s
}
