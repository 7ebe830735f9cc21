package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/repokit/repokit/httperr"
)

// User is an account.
type User struct {
	ID      string `db:"id" json:"id"`
	Email   string `db:"email" json:"email"`
	Hash    string `db:"password_hash" json:"-"`
	IsAdmin bool   `db:"is_admin" json:"is_admin"`
	Created int64  `db:"created" json:"-"`
}

// Token is a personal API token (only its SHA-256 is stored).
type Token struct {
	Hash    string `db:"hash"`
	UserID  string `db:"user_id"`
	Name    string `db:"name"`
	Created int64  `db:"created"`
}

var (
	errBadLogin   = httperr.WithPublic(errors.New("wrong e-mail or password"), http.StatusBadRequest, "wrong e-mail or password")
	errUserExists = httperr.WithPublic(errors.New("a user with this e-mail already exists"), http.StatusBadRequest, "a user with this e-mail already exists")
)

// Users keeps accounts and tokens in two tables of the shared database.
type Users struct{ db *sqlx.DB }

// The tables use types every dialect has (VARCHAR keys, integer flags and
// unix times), so one statement creates them on SQLite, PostgreSQL and MySQL.
var usersDDL = []string{
	`CREATE TABLE IF NOT EXISTS repo_users (
		id VARCHAR(36) NOT NULL PRIMARY KEY,
		email VARCHAR(255) NOT NULL UNIQUE,
		password_hash VARCHAR(255) NOT NULL,
		is_admin INTEGER NOT NULL DEFAULT 0,
		created BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS repo_tokens (
		hash VARCHAR(64) NOT NULL PRIMARY KEY,
		user_id VARCHAR(36) NOT NULL,
		name VARCHAR(255) NOT NULL,
		created BIGINT NOT NULL)`,
}

func newUsers(ctx context.Context, db *sqlx.DB) (*Users, error) {
	for _, q := range usersDDL {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	return &Users{db: db}, nil
}

func normEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e {
		return "", fmt.Errorf("%q is not an e-mail address", e)
	}
	return e, nil
}

// Create adds a user with a bcrypt password hash.
func (u *Users) Create(ctx context.Context, email, password string, admin bool, cost int) (*User, error) {
	email, err := normEmail(email)
	if err != nil {
		return nil, err
	}
	if len(password) < 8 {
		return nil, errors.New("the password must have at least 8 characters")
	}
	if len(password) > 72 {
		return nil, errors.New("the password must have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, err
	}
	if _, err := u.ByEmail(ctx, email); err == nil {
		return nil, errUserExists
	}
	usr := &User{ID: uuid.NewString(), Email: email, Hash: string(h), IsAdmin: admin, Created: time.Now().Unix()}
	_, err = u.db.ExecContext(ctx, u.db.Rebind(`INSERT INTO repo_users (id, email, password_hash, is_admin, created) VALUES (?, ?, ?, ?, ?)`),
		usr.ID, usr.Email, usr.Hash, boolInt(admin), usr.Created)
	if err != nil {
		if _, e2 := u.ByEmail(ctx, email); e2 == nil {
			return nil, errUserExists
		}
		return nil, err
	}
	return usr, nil
}

// SetPassword replaces a user's password (create-admin on an existing user).
func (u *Users) SetPassword(ctx context.Context, id, password string, admin bool, cost int) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	_, err = u.db.ExecContext(ctx, u.db.Rebind(`UPDATE repo_users SET password_hash = ?, is_admin = ? WHERE id = ?`), string(h), boolInt(admin), id)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

type userRow struct {
	ID      string `db:"id"`
	Email   string `db:"email"`
	Hash    string `db:"password_hash"`
	IsAdmin int    `db:"is_admin"`
	Created int64  `db:"created"`
}

func (r userRow) user() *User {
	return &User{ID: r.ID, Email: r.Email, Hash: r.Hash, IsAdmin: r.IsAdmin != 0, Created: r.Created}
}

func (u *Users) get(ctx context.Context, where string, arg any) (*User, error) {
	var r userRow
	err := u.db.GetContext(ctx, &r, u.db.Rebind(`SELECT id, email, password_hash, is_admin, created FROM repo_users WHERE `+where+` = ?`), arg)
	if err != nil {
		return nil, err
	}
	return r.user(), nil
}

// ByID returns a user; sql.ErrNoRows if there is none.
func (u *Users) ByID(ctx context.Context, id string) (*User, error) { return u.get(ctx, "id", id) }

// ByEmail returns a user; sql.ErrNoRows if there is none.
func (u *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	return u.get(ctx, "email", strings.ToLower(strings.TrimSpace(email)))
}

// Authenticate checks a password; errBadLogin for an unknown e-mail or a
// wrong password (the same error, and the same work, for both).
func (u *Users) Authenticate(ctx context.Context, email, password string) (*User, error) {
	usr, err := u.ByEmail(ctx, email)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, errBadLogin
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(usr.Hash), []byte(password)) != nil {
		return nil, errBadLogin
	}
	return usr, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password at all"), bcrypt.MinCost)

// CreateToken makes a personal API token and returns its secret (shown once).
func (u *Users) CreateToken(ctx context.Context, userID, name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := "rk_" + hex.EncodeToString(b)
	if name == "" {
		name = "token"
	}
	_, err := u.db.ExecContext(ctx, u.db.Rebind(`INSERT INTO repo_tokens (hash, user_id, name, created) VALUES (?, ?, ?, ?)`),
		tokenHash(secret), userID, name, time.Now().Unix())
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Tokens lists a user's tokens (names and dates only).
func (u *Users) Tokens(ctx context.Context, userID string) ([]Token, error) {
	var out []Token
	err := u.db.SelectContext(ctx, &out, u.db.Rebind(`SELECT hash, user_id, name, created FROM repo_tokens WHERE user_id = ? ORDER BY created`), userID)
	return out, err
}

// RevokeToken deletes one of a user's tokens by the first characters of its hash.
func (u *Users) RevokeToken(ctx context.Context, userID, hash string) error {
	_, err := u.db.ExecContext(ctx, u.db.Rebind(`DELETE FROM repo_tokens WHERE user_id = ? AND hash = ?`), userID, hash)
	return err
}

// ByToken returns the user owning a token secret.
func (u *Users) ByToken(ctx context.Context, secret string) (*User, error) {
	var uid string
	err := u.db.GetContext(ctx, &uid, u.db.Rebind(`SELECT user_id FROM repo_tokens WHERE hash = ?`), tokenHash(secret))
	if err != nil {
		return nil, err
	}
	return u.ByID(ctx, uid)
}

func tokenHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
