module lastgasp.test/gocrash

go 1.22

require github.com/lastgasp/lastgasp v0.0.0

replace github.com/lastgasp/lastgasp => ../../..
