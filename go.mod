module github.com/lastgasp/lastgasp

go 1.22
