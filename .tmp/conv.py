import re,sys
for p in sys.argv[1:]:
    s=open(p).read()
    pat=re.compile(r'(?P<ind>[ ]+)/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\n(?P=ind)(?P<name>[A-Z][A-Z0-9_]+): (?P<expr>[^\n]*),\n', re.S)
    def rep(m):
        doc=' '.join(l.strip().lstrip('*').strip() for l in m.group('doc').strip().split('\n')).strip()
        expr=m.group('expr')
        if expr.rstrip().endswith(('{','(')) or expr.count('(')!=expr.count(')'):
            return m.group(0)
        d=doc.replace('\\','\\\\').replace("'","\\'")
        return f"{m.group('ind')}{m.group('name')}: {expr}.describe('{d}'),\n"
    n=pat.sub(rep,s)
    open(p,'w').write(n)
    print(p, s.count('/**')-n.count('/**'))
