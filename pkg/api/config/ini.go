package config

import (
	"fmt"
	"net"

	"gopkg.in/ini.v1"
)

// readINI reads the seed's config.ini (Listing 1): [influxdb] and [grafana]
// with host, port, user and pass. Other sections (the seed's [test]) are
// ignored.
func (c *Config) readINI(path string) error {
	f, err := ini.Load(path)
	if err != nil {
		return fmt.Errorf("reading config %s: %w", path, err)
	}
	for _, s := range []struct {
		name string
		ep   *Endpoint
	}{{"influxdb", &c.InfluxDB}, {"grafana", &c.Grafana}} {
		sec, err := f.GetSection(s.name)
		if err != nil {
			continue
		}
		for _, k := range sec.Keys() {
			switch k.Name() {
			case "host", "port", "user", "pass":
			default:
				return fmt.Errorf("config %s: [%s] %s: unknown key (host, port, user, pass)", path, s.name, k.Name())
			}
		}
		host, port := sec.Key("host").String(), sec.Key("port").String()
		if host == "" || port == "" {
			return fmt.Errorf("config %s: [%s]: host and port are required", path, s.name)
		}
		if _, err := sec.Key("port").Int(); err != nil {
			return fmt.Errorf("config %s: [%s] port: %q is not a number", path, s.name, port)
		}
		s.ep.URL = "http://" + net.JoinHostPort(host, port)
		s.ep.User = sec.Key("user").String()
		s.ep.Password = sec.Key("pass").String()
	}
	return nil
}
