# fastapi_notes.py: the notes API of notes.c in FastAPI (Pydantic 2), for
# comparison only: the same routes, models, auth and answers, on the same
# SQLite table.  Run with `NOTES_TOKEN=... uvicorn fastapi_notes:app`.
import json
import os
import secrets
import sqlite3
from typing import Annotated, Optional

from fastapi import Depends, FastAPI, HTTPException, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

TOKEN = os.environ["NOTES_TOKEN"]
db = sqlite3.connect(os.environ.get("NOTES_DB", "notes.db"), timeout=5,
                     check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
           " title TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL)")

Tag = Annotated[str, Field(min_length=1, max_length=50)]


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str = Field("", max_length=10000)
    tags: list[Tag] = Field([], max_length=10)


class NotePatch(BaseModel):
    title: Optional[str] = Field(None, min_length=1, max_length=100)
    body: Optional[str] = Field(None, max_length=10000)
    tags: Optional[list[Tag]] = Field(None, max_length=10)


class Note(NoteIn):
    id: int


def authorized(cred: HTTPAuthorizationCredentials = Depends(HTTPBearer())):
    if not secrets.compare_digest(cred.credentials, TOKEN):
        raise HTTPException(401, "Could not validate credentials",
                            headers={"WWW-Authenticate": "Bearer"})


app = FastAPI(dependencies=[Depends(authorized)])
COLUMNS = "id, title, body, tags"


def note(row):
    if row is None:
        raise HTTPException(404, "Note not found")
    return Note(id=row[0], title=row[1], body=row[2], tags=json.loads(row[3]))


@app.post("/notes", status_code=201, response_model=Note, tags=["notes"])
def create_note(n: NoteIn, response: Response):
    row = db.execute("INSERT INTO notes (title, body, tags) VALUES (?, ?, ?) RETURNING "
                     + COLUMNS, (n.title, n.body, json.dumps(n.tags))).fetchone()
    response.headers["Location"] = "/notes/%d" % row[0]
    return note(row)


@app.get("/notes", response_model=list[Note], tags=["notes"])
def list_notes(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
               tag: list[str] = Query([])):
    rows = db.execute("SELECT " + COLUMNS + " FROM notes WHERE NOT EXISTS (SELECT 1 FROM"
                      " json_each(?) AS want WHERE want.value NOT IN (SELECT value FROM"
                      " json_each(notes.tags))) ORDER BY id LIMIT ? OFFSET ?",
                      (json.dumps(tag), limit, offset))
    return [note(r) for r in rows]


@app.get("/notes/{id}", response_model=Note, tags=["notes"])
def get_note(id: int):
    return note(db.execute("SELECT " + COLUMNS + " FROM notes WHERE id = ?", (id,)).fetchone())


def update(id, n):
    return note(db.execute(
        "UPDATE notes SET title = coalesce(?, title), body = coalesce(?, body),"
        " tags = coalesce(?, tags) WHERE id = ? RETURNING " + COLUMNS,
        (n.title, n.body, None if n.tags is None else json.dumps(n.tags), id)).fetchone())


@app.put("/notes/{id}", response_model=Note, tags=["notes"])
def replace_note(id: int, n: NoteIn):
    return update(id, n)


@app.patch("/notes/{id}", response_model=Note, tags=["notes"])
def change_note(id: int, n: NotePatch):
    return update(id, n)


@app.delete("/notes/{id}", status_code=204, tags=["notes"])
def delete_note(id: int):
    if db.execute("DELETE FROM notes WHERE id = ?", (id,)).rowcount == 0:
        raise HTTPException(404, "Note not found")
