// Package filesize holds no code, only a test: every hand-written non-test
// Go file of the module stays at or under MaxLines lines (issue 16, item
// 6). A file past it is split along a seam of what it holds, as
// broker/rabbit is (connection, publish, consume, topology, admin), rather
// than the limit raised. Generated code (ent/, and any file with a
// "// Code generated" line) does not count.
package filesize

// MaxLines is the most lines a hand-written non-test Go file may have.
const MaxLines = 500
