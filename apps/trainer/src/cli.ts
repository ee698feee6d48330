console.log("tagi: trainer not built yet");
