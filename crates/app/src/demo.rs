//! The Haikou demo network (2011): the city, 4 districts, 41 towns and streets, 407 villages
//! and communities with their venues, the departments, a catalogue of 40 items, windows and
//! staff, and one account per role. Loaded through the same imports a real office uses.

use oversight_domain::access::Role;
use oversight_domain::org::OrgKind;
use oversight_store::audit::{self, NewAudit};
use oversight_store::network as store;
use serde_json::json;

use crate::accounts::{self, NewUser};
use crate::exchange::{TextEncoding, Upload};
use crate::network::{self, ImportReport};
use crate::{Actor, App, AppError, new_id};

pub const ORGS_CSV: &[u8] = include_bytes!("../../../data/demo/haikou-orgs.csv");
pub const ITEMS_CSV: &[u8] = include_bytes!("../../../data/demo/haikou-items.csv");

/// A demo account and its password (printed once, when the demo is loaded).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub org_code: String,
    pub display_name: String,
}

/// The accounts of the demo: one per role, and a district supervisor to show scoping.
const ACCOUNTS: [(&str, &str, Role, &str); 9] = [
    ("admin", "系统管理员", Role::Admin, "460100"),
    ("xiaoneng", "市效能办 王督查", Role::Supervisor, "460100"),
    ("xiuying", "秀英区效能办 陈督查", Role::Supervisor, "460105"),
    ("fgw", "市发改委联络员 李明", Role::Liaison, "460100-D01"),
    ("chuangkou", "市政务服务中心 林窗口", Role::WindowStaff, "460100-V"),
    ("rexian", "963333 热线 吴话务", Role::Operator, "460100"),
    ("jiancha", "特邀监察员 符监察", Role::Inspector, "460100"),
    ("lingdao", "市领导 周领导", Role::Leader, "460100"),
    ("lhadmin", "龙华区系统管理员", Role::Admin, "460106"),
];

const SURNAMES: [&str; 12] = ["王", "李", "陈", "林", "吴", "符", "黄", "张", "周", "郑", "冯", "邢"];
const GIVEN: [&str; 12] =
    ["海燕", "志强", "丽娟", "建华", "晓明", "秀英", "国平", "春梅", "文博", "小琴", "永福", "雅婷"];

fn demo_password(username: &str) -> String {
    let mut buf = [0u8; 6];
    rand::fill(&mut buf[..]);
    format!("{username}-{}", hex::encode(buf))
}

/// Whether the database holds no network yet (the demo only loads into an empty one).
pub async fn is_empty(app: &App) -> Result<bool, AppError> {
    Ok(store::root(&app.db).await?.is_none())
}

/// Loads the demo into an empty database; returns the accounts with their passwords.
pub async fn load(app: &App) -> Result<Vec<DemoAccount>, AppError> {
    if !is_empty(app).await? {
        return Err(AppError::Conflict("数据库中已有服务网络，演示数据只载入空数据库".into()));
    }
    let cli = Actor::cli();
    let check = |what: &str, r: ImportReport| -> Result<(), AppError> {
        if r.applied() {
            Ok(())
        } else {
            Err(AppError::Conflict(format!("演示{what}数据有误：{:?}", r.rejected)))
        }
    };
    let orgs = Upload { name: "haikou-orgs.csv", bytes: ORGS_CSV, encoding: TextEncoding::Auto };
    check("网络", network::import_orgs(app, &cli, &orgs).await?)?;
    let items = Upload { name: "haikou-items.csv", bytes: ITEMS_CSV, encoding: TextEncoding::Auto };
    check("事项", network::import_items(app, &cli, &items).await?)?;
    add_windows_and_staff(app).await?;
    let mut accounts = Vec::new();
    for (username, display_name, role, org_code) in ACCOUNTS {
        let password = demo_password(username);
        accounts::create_user(
            app,
            &cli,
            NewUser { username, display_name, password: &password, role: role.as_str(), org_code },
        )
        .await?;
        accounts.push(DemoAccount {
            username: username.into(),
            password,
            role,
            org_code: org_code.into(),
            display_name: display_name.into(),
        });
    }
    Ok(accounts)
}

/// Every department gets a window in its jurisdiction's centre, with two members of staff.
async fn add_windows_and_staff(app: &App) -> Result<(), AppError> {
    let units = store::all_units(&app.db).await?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let mut windows = 0;
    let mut n = 0usize;
    for dept in units.iter().filter(|u| u.kind == OrgKind::Department) {
        let Some(parent) = &dept.parent else { continue };
        let Some(venue) = units.iter().find(|u| u.parent.as_ref() == Some(parent) && u.kind.is_venue()) else {
            continue;
        };
        let short = dept.name.trim_start_matches("市").trim_start_matches("秀英区").trim_start_matches("龙华区");
        let short = short.trim_start_matches("琼山区").trim_start_matches("美兰区");
        let window_id = new_id();
        store::insert_window(&mut tx, &window_id, venue, dept.code.as_str(), &format!("{short}窗口"), now).await?;
        windows += 1;
        for position in ["窗口负责人", "窗口工作人员"] {
            let name = format!("{}{}", SURNAMES[n % SURNAMES.len()], GIVEN[(n / SURNAMES.len() + n) % GIVEN.len()]);
            n += 1;
            store::insert_staff(&mut tx, &new_id(), dept, Some(&window_id), &name, position, now).await?;
        }
    }
    audit::append(
        &mut tx,
        NewAudit {
            actor: "cli",
            action: "demo.load",
            target: "haikou",
            path: "/",
            detail: json!({ "windows": windows, "staff": n }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
