-- Identity-first sign-in looks guests up by address across organizations.
CREATE INDEX users_by_email ON users (email, user_type);
