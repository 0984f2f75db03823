-- down 0004_create_users

drop table app.users;
