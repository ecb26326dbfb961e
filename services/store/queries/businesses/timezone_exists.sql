-- Is $1 a time zone name PostgreSQL knows (IANA names and their aliases)?
SELECT 1 FROM pg_timezone_names WHERE name = $1
