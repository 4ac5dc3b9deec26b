#pragma once
// JSON texts, valid and not by RFC 8259, for the dashboard's fast reader (model_test.cpp). In a
// header of their own: moc's tokenizer trips over the raw strings.

struct JsonCase {
  const char* text;
  bool valid;
};

inline const JsonCase kJsonCases[] = {
    {R"({"a":1,"b":[1,2.5,-3e2,0.1E+1],"c":{"d":null,"e":true,"f":false},"g":"x\"y\\z\u00e9\ud83d\ude00\n"})", true},
    {R"( { "spaces" : [ ] , "o" : { } } )", true},
    {R"([[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]])", true},
    {R"({"a":-0,"b":1E-2})", true},
    {R"("just a string")", true},
    {R"([1,2,])", false},
    {R"({"a":1,})", false},
    {R"({"a":01})", false},
    {R"({"a":1.})", false},  // Qt 6.4 accepts this one and the next three; RFC 8259 does not
    {R"({"a":.5})", false},
    {"{\"a\":\"tab\there\"}", false},
    {R"({"a":"\x"})", false},
    {R"({"a":-})", false},
    {R"({"a":+1})", false},
    {R"({"a":NaN})", false},
    {R"({"a":tru})", false},
    {R"({"a":"unterminated})", false},
    {R"({"a":"\u12G4"})", false},
    {R"({"a":1} x)", false},
    {R"({"a" 1})", false},
    {R"({a:1})", false},
    {R"()", false},
    {R"({"a":1e400})", false},  // out of range: refused rather than read as infinity
};
