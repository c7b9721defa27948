package resource

// Users returns the seed's user resource (Listings 2, 4 and 5): login with
// credentials.login, unique uuid, email and login, role client by default.
func Users() Resource {
	return Resource{
		Name:   "users",
		Unique: []string{"uuid", "email", "credentials.login"},
		Login:  "credentials",
		Owner:  "uuid",
		Fields: []Field{
			{Name: "uuid", Type: TypeUUID, System: GenUUID},
			{Name: "name", Type: TypeString, Required: true, MinLen: 1, MaxLen: 200},
			{Name: "email", Type: TypeEmail, Required: true, MaxLen: 254},
			{Name: "credentials", Type: TypeObject, Required: true, Fields: []Field{
				{Name: "login", Type: TypeString, Required: true, MinLen: 1, MaxLen: 254},
				{Name: "password", Type: TypePassword, Required: true, MaxLen: 1024},
			}},
			{Name: "role", Type: TypeString, Default: "client", AdminOnly: true, Enum: []string{"admin", "client"}},
			{Name: "password_influx", Type: TypeString, System: GenSecret},
			{Name: "created_at", Type: TypeDateTime, System: GenNow},
			{Name: "karanas", Type: TypeList, Items: TypeUUID, MaxItems: 1000, System: GenList, Ref: "karanas"},
		},
	}
}

// Karanas returns the seed's karana resource. password_influx is an
// extension: each karana writes to InfluxDB with its own credentials.
func Karanas() Resource {
	return Resource{
		Name:   "karanas",
		Unique: []string{"uuid"},
		Owner:  "owner",
		Fields: []Field{
			{Name: "uuid", Type: TypeUUID, System: GenUUID},
			{Name: "name", Type: TypeString, Required: true, MinLen: 1, MaxLen: 200},
			{Name: "configuration", Type: TypeJSON, Default: map[string]any{}},
			{Name: "owner", Type: TypeUUID, Ref: "users", Required: true},
			{Name: "password_influx", Type: TypeString, System: GenSecret},
			{Name: "created_at", Type: TypeDateTime, System: GenNow},
		},
	}
}
