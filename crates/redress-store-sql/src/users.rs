//! User accounts.

use redress_domain::org::Role;
use redress_store::{NewUser, StoreError, StoreResult, User, UserUpdate};
use sqlx::{Database, QueryBuilder};

use crate::{Builder, Connection, Db, Engine, Run, fetch_all, fetch_optional, get, get_text};

/// The columns [`user_from`] reads, in its order.
const USER_COLUMNS: &str = "id, name, role, department, active, open_load, language";

pub(crate) fn user_from<E: Engine>(r: &<Db<E> as Database>::Row) -> StoreResult<User> {
    Ok(User {
        id: get(r, 0)?,
        name: get(r, 1)?,
        role: Role::parse(get_text(r, 2)?).map_err(|e| StoreError::corrupt("user role", e))?,
        department: get(r, 3)?,
        active: get(r, 4)?,
        open_load: get(r, 5)?,
        language: get(r, 6)?,
    })
}

fn select_users<E: Engine>(condition: &str) -> QueryBuilder<Db<E>> {
    QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users {condition}"))
}

/// Creates a user; a name or token already taken is [`StoreError::Duplicate`].
pub async fn create_user<E: Engine>(conn: &mut Connection<E>, user: &NewUser) -> StoreResult<User> {
    let mut q = QueryBuilder::<Db<E>>::new("INSERT INTO users (id, name, role, department, token_hash, password_hash, active, open_load, created_at) VALUES (");
    q.bind(&user.id).push(", ").bind(&user.name).push(", ").bind(user.role.as_str()).push(", ").bind(&user.department);
    q.push(", ").bind(&user.token_hash).push(", ").bind(&user.password_hash).push(", ").bind(true).push(", 0, ");
    q.bind(user.created_at.as_microsecond()).push(")");
    match <Db<E> as Run>::execute(conn, &mut q).await {
        Ok(()) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Duplicate(format!("a user named '{}' already exists", user.name)));
        }
        Err(e) => return Err(StoreError::db(e)),
    }
    self::user::<E>(conn, &user.id).await?.ok_or(StoreError::NotFound)
}

/// The active user holding a token (by hash).
pub async fn user_by_token_hash<E: Engine>(conn: &mut Connection<E>, token_hash: &str) -> StoreResult<Option<User>> {
    let mut q = select_users::<E>("WHERE token_hash = ");
    q.bind(token_hash).push(format_args!(" AND active = {}", E::TRUE));
    fetch_optional(conn, &mut q).await?.as_ref().map(user_from::<E>).transpose()
}

/// A user by id.
pub async fn user<E: Engine>(conn: &mut Connection<E>, id: &str) -> StoreResult<Option<User>> {
    let mut q = select_users::<E>("WHERE id = ");
    q.bind(id);
    fetch_optional(conn, &mut q).await?.as_ref().map(user_from::<E>).transpose()
}

/// A user by login name.
pub async fn user_by_name<E: Engine>(conn: &mut Connection<E>, name: &str) -> StoreResult<Option<User>> {
    let mut q = select_users::<E>("WHERE name = ");
    q.bind(name);
    fetch_optional(conn, &mut q).await?.as_ref().map(user_from::<E>).transpose()
}

/// Every user, by name.
pub async fn users<E: Engine>(conn: &mut Connection<E>) -> StoreResult<Vec<User>> {
    let mut q = select_users::<E>("ORDER BY name");
    fetch_all(conn, &mut q).await?.iter().map(user_from::<E>).collect()
}

/// A user's password hash; `None` if the user does not exist or has no password.
pub async fn password_hash<E: Engine>(conn: &mut Connection<E>, user_id: &str) -> StoreResult<Option<String>> {
    let mut q = QueryBuilder::<Db<E>>::new("SELECT password_hash FROM users WHERE id = ");
    q.bind(user_id);
    Ok(match fetch_optional(conn, &mut q).await? {
        Some(r) => get(&r, 0)?,
        None => None,
    })
}

/// Sets a user's password hash; [`StoreError::NotFound`] if there is no such user.
pub async fn set_password_hash<E: Engine>(conn: &mut Connection<E>, user_id: &str, hash: &str) -> StoreResult<()> {
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE users SET password_hash = ");
    q.bind(hash).push(" WHERE id = ").bind(user_id).push(" RETURNING id");
    fetch_optional(conn, &mut q).await?.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Changes the fields of an account that `update` gives and returns the account;
/// [`StoreError::NotFound`] if there is no such user. The open-complaint count is not touched.
pub async fn update_user<E: Engine>(conn: &mut Connection<E>, user_id: &str, update: &UserUpdate) -> StoreResult<User> {
    let UserUpdate { role, department, active, language } = update;
    if role.is_none() && department.is_none() && active.is_none() && language.is_none() {
        return user::<E>(conn, user_id).await?.ok_or(StoreError::NotFound);
    }
    let mut q = QueryBuilder::<Db<E>>::new("UPDATE users SET ");
    let mut separator = "";
    if let Some(role) = role {
        q.push(separator).push("role = ").bind(role.as_str());
        separator = ", ";
    }
    if let Some(department) = department {
        q.push(separator).push("department = ").bind(department);
        separator = ", ";
    }
    if let Some(active) = active {
        q.push(separator).push("active = ").bind(*active);
        separator = ", ";
    }
    if let Some(language) = language {
        q.push(separator).push("language = ").bind(language);
    }
    q.push(" WHERE id = ").bind(user_id).push(format_args!(" RETURNING {USER_COLUMNS}"));
    fetch_optional(conn, &mut q).await?.as_ref().map(user_from::<E>).transpose()?.ok_or(StoreError::NotFound)
}
