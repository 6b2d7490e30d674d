module lastgasp.test/offsets

go 1.22
